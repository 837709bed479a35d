"""`ail-tui validate`: exit codes, JSON and compiler-style text, samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ail_tui import cli
from ail_tui.cli import main
from ail_tui.pipeline.diagnostics import Diagnostic, Severity
from ail_tui.pipeline.source import Position
from ail_tui.report import format_diagnostic, report_text

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


def child_env() -> dict[str, str]:
    """The environment for ``python -m ail_tui`` from any directory, installed or not."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


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
    lines = capsys.readouterr().err.splitlines()
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


def unreadable(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "nope.ail.yaml"
    if kind == "directory":
        return tmp_path
    path = tmp_path / "bad.ail.yaml"
    path.write_bytes(b"version: \xff\xfe\n")
    return path


UNREADABLE = ["missing", "directory", "not-utf8"]


@pytest.mark.parametrize("kind", UNREADABLE)
def test_unreadable_pipeline_exits_2(tmp_path: Path, kind: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = unreadable(tmp_path, kind)
    assert main(["validate", str(path), "--format", "json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    [error] = report["errors"]
    assert error["error_type"] == "ail:config/file-not-found"
    assert "line" not in error


@pytest.mark.parametrize("kind", UNREADABLE)
def test_unreadable_pipeline_text_has_no_position_and_no_traceback(tmp_path: Path,
                                                                   kind: str) -> None:
    path = unreadable(tmp_path, kind)
    done = subprocess.run(
        [sys.executable, "-m", "ail_tui", "validate", str(path)],
        capture_output=True, text=True, check=False, cwd=tmp_path, env=child_env(),
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    first, summary = done.stderr.splitlines()
    shown = "." if kind == "directory" else path.name
    assert first.startswith(f"{shown}: error[ail:config/file-not-found]: Could not read ")
    assert summary == f"{shown}: not checked — the file could not be read"


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_dashboard_on_unreadable_path_exits_2(tmp_path: Path, kind: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = unreadable(tmp_path, kind)
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ail-tui: cannot open '{path}': ")
    assert ("is a directory" if kind == "directory" else "no such file") in err


def test_missing_from_base_is_invalid_not_unreadable(tmp_path: Path) -> None:
    path = write(tmp_path, 'version: "1"\nFROM: ./gone.ail.yaml\npipeline: []\n')
    assert main(["validate", str(path)]) == 1


def test_finding_in_a_from_base_shows_the_base_source_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, 'version: "1"\npipeline:\n  - id: a\n    action: explode\n', "base.ail.yaml")
    child = write(tmp_path, 'version: "1"\nFROM: ./base.ail.yaml\npipeline:\n'
                            "  - id: b\n    prompt: hi\n", "child.ail.yaml")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(child)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("base.ail.yaml:4:13: error[ail:config/validation-failed]: ")
    assert lines[1:3] == ["    4 |     action: explode", "      |             ^"]
    assert lines[-1] == "child.ail.yaml: invalid — 1 error"


def test_paths_are_shown_relative_to_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sub").mkdir()
    path = write(tmp_path / "sub", VALID)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(path.resolve())]) == 0
    assert capsys.readouterr().out == "sub/p.ail.yaml: valid\n"


def test_warnings_alone_keep_a_pipeline_valid(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, VALID + "    promt: typo\n    sytem_prompt: x\n")
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("warning[ail:config/unknown-key]") == 2
    assert captured.out.endswith("p.ail.yaml: valid (2 warnings)\n")
    assert captured.out.count("\n") == 1  # the summary alone


def test_json_items_carry_only_contract_keys(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    main(["validate", str(SAMPLES / "invalid.ail.yaml"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"valid", "errors", "warnings"}
    allowed = {"error_type", "detail", "step_id", "file", "line", "column"}
    for item in report["errors"] + report["warnings"]:
        assert {"error_type", "detail"} <= set(item) <= allowed
        assert item["error_type"].startswith("ail:")


def test_colour_only_on_a_terminal_without_no_color(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli._use_colour(Tty())
    assert not cli._use_colour(sys.stdout)  # captured: not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cli._use_colour(Tty())
    assert main(["validate", str(write(tmp_path, INVALID))]) == 1
    captured = capsys.readouterr()
    assert "error[" in captured.err and "\x1b[" not in captured.err + captured.out


def _finding(line: int, column: int, file: Path) -> Diagnostic:
    return Diagnostic("ail:config/validation-failed", "boom", Position(str(file), line, column),
                      severity=Severity.ERROR)


def test_caret_counts_wide_characters_and_tabs(tmp_path: Path) -> None:
    source = write(tmp_path, 'name: "日本語" x\n\tkey: y\n')
    _, shown, caret = format_diagnostic(_finding(1, 13, source), "p")
    assert shown.endswith('name: "日本語" x')
    assert caret.index("^") - caret.index("|") == shown.index("x") - shown.index("|") + 3
    _, _, caret = format_diagnostic(_finding(2, 7, source), "p")
    assert caret.endswith("| \t     ^")


def test_long_source_lines_are_cut_around_the_column(tmp_path: Path) -> None:
    source = write(tmp_path, "k: " + "a" * 300 + "X" + "b" * 300 + "\n")
    _, shown, caret = format_diagnostic(_finding(1, 304, source), "p")
    assert len(shown) < 140
    assert "…" in shown and shown.rstrip().endswith("…")
    assert shown[caret.index("^")] == "X"


def test_coloured_report_marks_levels(tmp_path: Path) -> None:
    from ail_tui.pipeline.validation import check_file

    coloured = report_text(check_file(write(tmp_path, INVALID)), "p", colour=True)
    assert "\x1b[31merror[" in coloured and "\x1b[33mwarning[" in coloured


def test_broken_pipe_is_quiet(tmp_path: Path) -> None:
    steps = "".join(f"  - id: s{i}\n    action: explode\n" for i in range(2000))
    path = write(tmp_path, 'version: "1"\npipeline:\n' + steps)
    proc = subprocess.Popen([sys.executable, "-m", "ail_tui", "validate", str(path),
                             "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env())
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert "Traceback" not in err


def test_yaml_syntax_error_is_positioned(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, 'version: "1"\npipeline:\n  - id: [a\n')
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert ":4:1: error[ail:config/invalid-yaml]: Failed to parse" in err


def test_module_and_subprocess_agree(tmp_path: Path) -> None:
    path = write(tmp_path, INVALID)
    done = subprocess.run(
        [sys.executable, "-m", "ail_tui", "validate", str(path), "--format", "json"],
        capture_output=True, text=True, check=False, env=child_env(),
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
