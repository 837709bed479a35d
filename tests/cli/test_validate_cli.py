"""`ail-tui validate`: exit codes, JSON and compiler-style text, samples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ail_tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_pipelines"

VALID = 'version: "0.1"\npipeline:\n  - id: review\n    prompt: "Review it"\n'
INVALID = (
    'version: "0.1"\n'
    "pipeline:\n"
    "  - id: review\n"
    "    prompt: one\n"
    "  - id: review\n"
    "    promt: typo\n"
    "    prompt: two\n"
)


def write(tmp_path: Path, text: str, name: str = "p.ail.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(write(tmp_path, VALID))]) == 0
    assert capsys.readouterr().out.strip().endswith(": valid")


def test_invalid_file_exits_1_with_caret(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, INVALID)
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    first = lines[0]
    assert first.endswith(
        ":5:9: error[ail:config/validation-failed]: "
        "Step id 'review' appears more than once in pipeline"
    )
    assert lines[1] == "    5 |   - id: review"
    assert lines[2] == "      |         ^"
    assert any("warning[ail:config/unknown-key]" in line and ":6:5:" in line for line in lines)
    assert lines[-1].endswith(": invalid — 1 error, 1 warning")


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, INVALID)
    assert main(["validate", str(path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    [error] = report["errors"]
    assert error["error_type"] == "ail:config/validation-failed"
    assert (error["line"], error["column"], error["step_id"]) == (5, 9, "review")
    [warning] = report["warnings"]
    assert warning["error_type"] == "ail:config/unknown-key"
    assert "did you mean 'prompt'" in warning["detail"]


@pytest.mark.parametrize("kind", ["missing", "directory", "not-utf8"])
def test_unreadable_pipeline_exits_2(tmp_path: Path, kind: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    if kind == "missing":
        path = tmp_path / "nope.ail.yaml"
    elif kind == "directory":
        path = tmp_path
    else:
        path = tmp_path / "bad.ail.yaml"
        path.write_bytes(b"version: \xff\xfe\n")
    assert main(["validate", str(path), "--format", "json"]) == 2
    [error] = json.loads(capsys.readouterr().out)["errors"]
    assert error["error_type"] == "ail:config/file-not-found"


def test_missing_from_base_is_invalid_not_unreadable(tmp_path: Path) -> None:
    path = write(tmp_path, 'version: "1"\nFROM: ./gone.ail.yaml\npipeline: []\n')
    assert main(["validate", str(path)]) == 1


def test_yaml_syntax_error_is_positioned(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, 'version: "1"\npipeline:\n  - id: [a\n')
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert ":4:1: error[ail:config/invalid-yaml]: Failed to parse" in out


def test_module_and_subprocess_agree(tmp_path: Path) -> None:
    path = write(tmp_path, INVALID)
    done = subprocess.run(
        [sys.executable, "-m", "ail_tui", "validate", str(path), "--format", "json"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["errors"][0]["line"] == 5
    assert done.stderr == ""


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("ail-tui ")


@pytest.mark.parametrize(
    "sample", sorted(p.name for p in SAMPLES.glob("*.ail.yaml") if p.name != "invalid.ail.yaml")
)
def test_every_sample_validates(sample: str) -> None:
    assert main(["validate", str(SAMPLES / sample)]) == 0


def test_invalid_sample_reports_each_planted_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SAMPLES / "invalid.ail.yaml"), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    found = {(e["line"], e["column"]) for e in report["errors"]}
    assert found == {(11, 21), (13, 9), (18, 24), (19, 15), (22, 13), (26, 16)}
    assert {(w["line"], w["column"]) for w in report["warnings"]} == {(10, 5), (11, 48)}
