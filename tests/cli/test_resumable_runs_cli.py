"""`ail-tui logs` and `ail-tui log` on durable runs: crashed, failed and finished runs
told apart, resumable ones marked, resumes, reused and reconciled steps, iterations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ail_tui.cli import main
from ail_tui.turnlog.paths import runs_dir
from ail_tui.turnlog.store import local_time
from ail_tui.turnlog.timestamps import parse_timestamp

FIXED = {"cost_usd": None, "exit_code": None, "input_tokens": 0, "modified": None,
         "output_tokens": 0, "prompt": "", "response": None, "runner_session_id": None,
         "stderr": None, "stdout": None, "thinking": None, "tool_events": []}


def ts(day: int, seconds: int = 0) -> str:
    return f"2026-04-{day:02d}T10:{seconds // 60:02d}:{seconds % 60:02d}.000Z"


def run_log(day: int, *ending: dict) -> list[dict]:
    """A run of step ``a`` started on ``day``, then ``ending``."""
    return [{"at": ts(day), "pipeline_source": "/w/p.ail.yaml", "project_hash": "h",
             "type": "run_started"},
            {"at": ts(day, 1), "prompt": "a", "step_id": "a", "type": "step_started"},
            *ending]


def finished(day: int, status: str) -> dict:
    return {"at": ts(day, 5), "status": status, "type": "run_finished"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return runs_dir(work)


def put(directory: Path, run_id: str, records: list[dict]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{run_id}.jsonl").write_text(
        "".join(json.dumps(r, sort_keys=True) + "\n" for r in records), encoding="utf-8")


def ail(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def every_end(directory: Path) -> None:
    done = {**FIXED, "step_id": "a", "response": "A"}
    put(directory, "run-completed", run_log(1, done, finished(1, "completed")))
    put(directory, "run-break", run_log(2, done, finished(2, "break")))
    put(directory, "run-failed", run_log(3, finished(3, "failed")))
    put(directory, "run-aborted", run_log(4, finished(4, "aborted")))
    put(directory, "run-cancelled", run_log(5, finished(5, "cancelled")))
    put(directory, "run-crashed", run_log(6))
    put(directory, "run-resumed", run_log(7, {"at": ts(7, 30), "type": "run_resumed"},
                                          done, finished(7, "completed")))


def test_logs_text_tells_each_end_apart(project: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    every_end(project)
    code, out = ail(capsys, "logs")
    assert code == 0
    lines = out.splitlines()
    status = {m.group(1): m.group(2).rstrip() for line in lines
              if (m := re.match(r"\[[^]]+\] (\S+)  (.+?)\s+-?\d*\.?\d*s? +\$", line))}
    assert status == {
        "run-resumed": "✓ completed",
        "run-crashed": "? interrupted · resumable",
        "run-cancelled": "⊘ cancelled · resumable",
        "run-aborted": "✗ aborted · resumable",
        "run-failed": "✗ failed · resumable",
        "run-break": "✓ break",
        "run-completed": "✓ completed",
    }
    assert [line.split()[2] for line in lines[:-1]] == [
        "run-resumed", "run-crashed", "run-cancelled", "run-aborted", "run-failed",
        "run-break", "run-completed"]
    assert lines[-1] == "resumable: continue one with ail-tui resume RUN_ID"
    # Columns line up: every status cell is padded to the widest one.
    assert len({line.index("$") - len(line.split()[2]) for line in lines[:-1]}) == 1


def test_logs_without_a_resumable_run_have_no_hint(project: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    put(project, "run-ok", run_log(1, {**FIXED, "step_id": "a"}, finished(1, "completed")))
    code, out = ail(capsys, "logs")
    assert code == 0 and "resumable" not in out
    assert "] run-ok  ✓ completed    5.0s  $0.0000  done 1  /w/p.ail.yaml\n" in out


def test_logs_json_has_resumable_and_resumes(project: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    every_end(project)
    code, out = ail(capsys, "logs", "--format", "json")
    assert code == 0
    runs = {r["run_id"]: r for r in json.loads(out)}
    assert {k: (r["status"], r["resumable"]) for k, r in runs.items()} == {
        "run-completed": ("completed", False), "run-break": ("break", False),
        "run-failed": ("failed", True), "run-aborted": ("aborted", True),
        "run-cancelled": ("cancelled", True), "run-crashed": ("interrupted", True),
        "run-resumed": ("completed", False)}
    assert runs["run-resumed"]["resumes"] == [ts(7, 30)]
    assert runs["run-crashed"]["resumes"] == []


def durable_log() -> list[dict]:
    """A rerun reusing ``a``; ``check`` loops twice; crash while ``deploy`` runs; resumed,
    ``deploy`` reconciled; completed."""
    return [
        {"at": ts(9), "pipeline_source": "/w/p.ail.yaml", "project_hash": "h",
         "type": "run_started"},
        {**FIXED, "step_id": "a", "response": "A", "reused_from": "0ld-run"},
        {"at": ts(9, 1), "prompt": "c", "step_id": "check", "type": "step_started",
         "iteration": [1]},
        {**FIXED, "step_id": "check", "response": "again", "iteration": [1]},
        {"at": ts(9, 2), "prompt": "c", "step_id": "check", "type": "step_started",
         "iteration": [2]},
        {**FIXED, "step_id": "check", "response": "enough", "iteration": [2]},
        {"at": ts(9, 3), "prompt": "deploy", "step_id": "deploy", "type": "step_started"},
        {"at": ts(9, 40), "type": "run_resumed"},
        {**FIXED, "step_id": "deploy", "stdout": "v42\n", "exit_code": 0, "reconciled": True},
        {"at": ts(9, 41), "status": "completed", "type": "run_finished"},
    ]


def test_log_markdown_of_a_durable_run(project: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    put(project, "durable", durable_log())
    code, out = ail(capsys, "log", "durable")
    assert code == 0
    resumed_at = parse_timestamp(ts(9, 40))
    assert out.startswith(
        "ail-log/1\n"
        "\n## Turn 1 — `a`\n\n_Reused from run 0ld-run_\n\nA\n\n---\n"
        "_No cost (context step)_\n"
        "\n## Turn 2 — `check` (iteration 1)\n\nagain\n\n---\n_No cost (context step)_\n"
        "\n## Turn 3 — `check` (iteration 2)\n\nenough\n\n---\n_No cost (context step)_\n"
        "\n## Turn 4 — `deploy`\n"
        "\n> [!WARNING]\n> **Step failed:** interrupted (no result was recorded)\n"
        f"\n— resumed at {local_time(resumed_at)} after a crash —\n"
        "\n## Turn 5 — `deploy`\n"
        "\n_Reconciled: recovered by its `reconcile` command after the run stopped_\n"
        '\n:::stdio stream="stdout"\nv42\n\n:::\n')


def test_log_json_of_a_durable_run(project: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    put(project, "durable", durable_log())
    code, out = ail(capsys, "log", "durable", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "completed" and data["resumable"] is False
    assert data["resumes"] == [ts(9, 40)]
    assert [(a["step_id"], a["status"], a["segment"], a["iteration"], a["reused_from"],
             a["reconciled"]) for a in data["attempts"]] == [
        ("a", "done", 0, None, "0ld-run", False),
        ("check", "done", 0, [1], None, False),
        ("check", "done", 0, [2], None, False),
        ("deploy", "interrupted", 0, None, None, False),
        ("deploy", "done", 1, None, None, True)]
