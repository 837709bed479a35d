"""Rebuilding runs from turn logs: Rust's, ours, crashed ones; listing and finding runs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from ail_tui.turnlog.paths import runs_dir
from ail_tui.turnlog.reader import read_run
from ail_tui.turnlog.store import find_run, list_runs

FIXED = {"cost_usd": None, "exit_code": None, "input_tokens": 0, "modified": None,
         "output_tokens": 0, "prompt": "", "response": None, "runner_session_id": None,
         "stderr": None, "stdout": None, "thinking": None, "tool_events": []}


def entry(step_id: str, **fields: object) -> dict:
    return {**FIXED, "step_id": step_id, **fields}


def write_log(path: Path, records: list[dict], tail: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r, sort_keys=True, separators=(",", ":")) for r in records]
    path.write_text("\n".join(lines) + "\n" + tail, encoding="utf-8")
    return path


# A log as the Rust ail writes it for a parallel pipeline (brief §8, §9): no timestamps
# on sequential records, async entries at the barrier, no run_finished.
RUST = [
    {"pipeline_source": "/w/p.ail.yaml", "project_hash": "5d41", "type": "run_started"},
    {"prompt": "git diff --stat", "step_id": "diff", "type": "step_started"},
    entry("diff", prompt="git diff --stat", stdout=" a.py | 2 +-\n", stderr="", exit_code=0),
    entry("lint", prompt="run lint", response="No issues found.", cost_usd=0.001,
          input_tokens=10, output_tokens=5, runner_session_id="s1",
          concurrent_group="cg-7f3a91c2", launched_at="2026-04-14T10:00:00.101Z",
          completed_at="2026-04-14T10:00:00.130Z"),
    entry("test", prompt="run tests", response="All 42 tests passed.", cost_usd=0.002,
          concurrent_group="cg-7f3a91c2", launched_at="2026-04-14T10:00:00.102Z",
          completed_at="2026-04-14T10:00:01.500Z"),
    entry("checks", prompt="join:[lint,test]",
          response="[lint]:\nNo issues found.\n\n[test]:\nAll 42 tests passed.\n",
          launched_at="2026-04-14T10:00:00.101Z", completed_at="2026-04-14T10:00:01.500Z"),
    {"prompt": "ship it", "step_id": "ship", "type": "step_started"},
    {"error_detail": "Process exited with 1", "error_type": "ail:runner/invocation-failed",
     "max_retries": 1, "on_error_action": "retry", "retry_attempt": 1, "step_id": "ship",
     "type": "step_error"},
    {"prompt": "ship it", "step_id": "ship", "type": "step_started"},
    entry("ship", prompt="ship it", response="Shipped.", cost_usd=0.003),
    {"unknown_record": True, "type": "something_new"},
]


def test_rust_log_is_rebuilt(tmp_path: Path) -> None:
    run = read_run(write_log(tmp_path / "r.jsonl", RUST))
    assert run.status == "completed" and not run.has_run_finished
    assert [s.step_id for s in run.steps] == ["diff", "lint", "test", "checks", "ship"]
    assert run.step("diff").status == "done"
    ship = run.step("ship")
    assert [a.status for a in ship.attempts] == ["retried", "done"]
    assert ship.attempts[0].error == "Process exited with 1"
    groups = run.groups()
    assert list(groups) == ["cg-7f3a91c2"]
    assert [s.step_id for s in groups["cg-7f3a91c2"]] == ["lint", "test"]
    lint = run.step("lint")
    assert lint.completed_at - lint.launched_at == pytest.approx(0.029, abs=1e-6)
    assert run.total_cost == pytest.approx(0.006)
    assert run.counts() == {"done": 5}


def test_torn_last_line_reads_as_interrupted(tmp_path: Path) -> None:
    records = RUST[:7]  # ends with ship's step_started
    run = read_run(write_log(tmp_path / "r.jsonl", records, tail='{"cost_usd":0.1,"exi'))
    assert run.torn_tail
    assert run.status == "interrupted"
    assert run.step("ship").status == "interrupted"
    assert run.warnings == []


def test_garbage_in_the_middle_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write_log(path, RUST[:3])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("not json at all\n\n[1, 2]\n")
        handle.write(json.dumps(RUST[3]) + "\n")
    run = read_run(path)
    assert len(run.warnings) == 2
    assert run.step("lint").status == "done"


def test_our_records_cancellations_and_run_finished(tmp_path: Path) -> None:
    run = read_run(write_log(tmp_path / "r.jsonl", [
        {"at": "2026-04-14T10:00:00.000Z", "pipeline_source": "/w/p.ail.yaml",
         "project_hash": "5d41", "type": "run_started"},
        {"at": "2026-04-14T10:00:00.010Z", "concurrent_group": "cg-00000001",
         "launched_at": "2026-04-14T10:00:00.005Z", "prompt": "sleep 1; exit 1",
         "step_id": "bad", "type": "step_started"},
        {"at": "2026-04-14T10:00:00.011Z", "concurrent_group": "cg-00000001",
         "launched_at": "2026-04-14T10:00:00.006Z", "prompt": "sleep 30",
         "step_id": "slow", "type": "step_started"},
        {"at": "2026-04-14T10:00:01.020Z", "error_detail": "timed out",
         "error_type": "ail:runner/invocation-failed", "on_error_action": "abort_pipeline",
         "step_id": "bad", "type": "step_error"},
        {"at": "2026-04-14T10:00:01.030Z", "cancelled_by": "fail_fast", "reason": "sibling",
         "concurrent_group": "cg-00000001", "step_id": "slow", "type": "step_cancelled"},
        {"event": "step_cancelled", "at": "2026-04-14T10:00:01.031Z", "cancelled_by": "user",
         "reason": "spec spelling", "step_id": "other"},
        {"at": "2026-04-14T10:00:01.040Z", "error": "Join dependency 'bad' failed",
         "error_type": "ail:pipeline/aborted", "status": "aborted", "type": "run_finished"},
    ]))
    assert run.status == "aborted" and run.error_type == "ail:pipeline/aborted"
    assert run.step("bad").status == "failed"
    slow = run.step("slow")
    assert slow.status == "cancelled" and slow.attempts[-1].cancelled_by == "fail_fast"
    assert slow.started_at - slow.launched_at == pytest.approx(0.005, abs=1e-6)
    assert run.step("other").attempts[-1].reason == "spec spelling"
    assert run.duration == pytest.approx(1.04, abs=1e-6)


def test_open_attempt_of_a_finished_run_failed(tmp_path: Path) -> None:
    run = read_run(write_log(tmp_path / "r.jsonl", [
        {"prompt": "x", "step_id": "a", "type": "step_started"},
        {"at": "2026-04-14T10:00:01.040Z", "status": "cancelled", "type": "run_finished"},
    ]))
    assert run.step("a").status == "cancelled"


def test_list_and_find_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    directory = runs_dir(tmp_path)
    older = write_log(directory / "aaaa1111-0000.jsonl", [
        {"at": "2026-04-14T10:00:00.000Z", "pipeline_source": "/w/a.ail.yaml",
         "project_hash": "h", "type": "run_started"}])
    newer = write_log(directory / "bbbb2222-0000.jsonl", [
        {"at": "2026-04-15T10:00:00.000Z", "pipeline_source": "/w/b.ail.yaml",
         "project_hash": "h", "type": "run_started"},
        {"at": "2026-04-15T10:00:02.000Z", "status": "completed", "type": "run_finished"}])
    os.utime(older, (time.time(), time.time()))
    runs = list_runs(tmp_path)
    assert [r.run_id for r in runs] == ["bbbb2222-0000", "aaaa1111-0000"]
    assert runs[0].status == "completed" and runs[0].duration == pytest.approx(2.0)
    assert find_run("bbbb", tmp_path) == newer
    assert find_run("aaaa1111-0000", tmp_path) == older
    assert find_run(None, tmp_path) == newer
    assert find_run("zzzz", tmp_path) is None
    assert find_run(str(older), tmp_path) == older
