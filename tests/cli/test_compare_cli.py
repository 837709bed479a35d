"""``ail-tui compare RUN_A RUN_B``: two runs of this project (ids, unique prefixes or
paths) compared step by step, as text or JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from turn_records import RUN_STARTED, entry, started, ts, write

from ail_tui.cli import main
from ail_tui.turnlog.paths import runs_dir

OLD, NEW = "0ld0a1b2-0000-4000-8000-000000000000", "ne3c4d5e-0000-4000-8000-000000000000"


def run(start: float, response: str) -> list[dict[str, object]]:
    return [{**RUN_STARTED, "at": ts(start)}, started("review", at=ts(start)),
            entry("review", response=response, cost_usd=0.002, started_at=ts(start),
                  completed_at=ts(start + 2)),
            {"at": ts(start + 3), "status": "completed", "type": "run_finished"}]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.chdir(tmp_path)
    folder = runs_dir()
    folder.mkdir(parents=True)
    write(folder, run(0, "fine"), OLD)
    write(folder, run(60, "not fine"), NEW)
    return folder


def test_text_by_prefixes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "ne3c", "0ld0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("A 0ld0a1b2  ") and lines[1].startswith("B ne3c4d5e  ")
    assert lines[2] == "Δ B−A  time +0.0s  cost +$0.0000  · 1 of 1 steps changed"
    assert lines[5].split()[0] == "review" and lines[5].split()[-1] == "differs"
    assert lines[-2:] == ["-fine", "+not fine"]


def test_json_by_id_and_path(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", OLD, str(project / f"{NEW}.jsonl"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["a"]["run_id"], data["b"]["run_id"]) == (OLD, NEW)
    [step] = data["steps"]
    assert step["response"] == "differs" and step["diff"][-2:] == ["-fine", "+not fine"]


def test_an_unknown_or_ambiguous_run_exits_1(project: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", OLD, "nope"]) == 1
    assert "no run 'nope' found" in capsys.readouterr().err
    write(project, run(90, "x"), "0ld0ffff")
    assert main(["compare", "0ld0", NEW]) == 1  # two runs start with 0ld0


def test_the_command_line_program(project: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "ail_tui", "compare", "0ld", "ne3"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "+not fine"
