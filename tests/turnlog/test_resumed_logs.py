"""Durable runs in the turn log: resumes, reused and reconciled results, loop iterations,
the status and resumability of each kind of end — and old logs read as before."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from turn_records import at, entry, ts, write
from turn_records import started as start_record

from ail_tui.turnlog.liveness import hold
from ail_tui.turnlog.markdown import format_ail_log, format_json, turns
from ail_tui.turnlog.reader import RunRecord, Segment, read_run
from ail_tui.turnlog.store import RunSummary, local_time

GROUP = "cg-0000abcd"
HASHES = {"a": "a1", "b": "b1", "c": "c1"}


def started(step_id: str, seconds: float, **fields: object) -> dict:
    prompt = str(fields.pop("prompt", step_id))
    return start_record(step_id, prompt, at=ts(seconds), **fields)


def run_started(seconds: float = 0) -> dict:
    return {"at": ts(seconds), "pipeline_hash": "p1", "pipeline_source": "/w/p.ail.yaml",
            "project_hash": "h", "step_hashes": HASHES, "type": "run_started"}


def resumed(seconds: float, pipeline_hash: str = "p1") -> dict:
    return {"at": ts(seconds), "pipeline_hash": pipeline_hash, "step_hashes": HASHES,
            "type": "run_resumed"}


def finished(seconds: float, status: str, error: str | None = None) -> dict:
    record = {"at": ts(seconds), "status": status, "type": "run_finished"}
    if error is not None:
        record |= {"error": error, "error_type": "ail:runner/invocation-failed"}
    return record


def read(tmp_path: Path, records: list[dict]) -> RunRecord:
    return read_run(write(tmp_path, records))


def statuses(run: RunRecord, step_id: str) -> list[tuple[str, int]]:
    step = run.step(step_id)
    assert step is not None
    return [(a.status, a.segment) for a in step.attempts]


def crash_then_resume() -> list[dict]:
    """a done; b in flight at a crash; resumed: b again, then c; completed."""
    return [run_started(), started("a", 1), entry("a", response="A", completed_at=ts(2)),
            started("b", 3), resumed(60), started("b", 61),
            entry("b", response="B", completed_at=ts(62)), started("c", 63),
            entry("c", response="C", completed_at=ts(64)), finished(65, "completed")]


def test_crash_then_resume_then_completion(tmp_path: Path) -> None:
    run = read(tmp_path, crash_then_resume())
    assert run.status == "completed" and run.has_run_finished and not run.resumable
    assert run.resumes == [at(60)]
    assert [(s.index, s.at, s.ended) for s in run.segments] == [
        (0, at(0), "interrupted"), (1, at(60), "completed")]
    assert run.segments[0].pipeline_hash == run.segments[1].pipeline_hash == "p1"
    assert run.segments[1].step_hashes == HASHES
    assert statuses(run, "a") == [("done", 0)]
    assert statuses(run, "b") == [("interrupted", 0), ("done", 1)]
    assert statuses(run, "c") == [("done", 1)]
    assert run.counts() == {"done": 3}
    assert run.started_at == at(0) and run.finished_at == at(65)
    assert run.duration == pytest.approx(65)
    assert format_ail_log(run) == (
        "ail-log/1\n"
        "\n## Turn 1 — `a`\n\nA\n\n---\n_No cost (context step)_\n"
        "\n## Turn 2 — `b`\n"
        "\n> [!WARNING]\n> **Step failed:** interrupted (no result was recorded)\n"
        f"\n— resumed at {local_time(at(60))} after a crash —\n"
        "\n## Turn 3 — `b`\n\nB\n\n---\n_No cost (context step)_\n"
        "\n## Turn 4 — `c`\n\nC\n\n---\n_No cost (context step)_\n")


def test_failed_run_finished_then_resume(tmp_path: Path) -> None:
    run = read(tmp_path, [
        run_started(), started("a", 1), entry("a", response="A"), started("b", 2),
        finished(3, "failed", "Runner exited with code 1"),
        resumed(30), started("b", 31), entry("b", response="B"), finished(32, "completed"),
    ])
    assert run.status == "completed" and run.error is None and run.error_type is None
    assert [s.ended for s in run.segments] == ["failed", "completed"]
    b = run.step("b")
    assert b is not None and statuses(run, "b") == [("failed", 0), ("done", 1)]
    first = b.attempts[0]
    assert first.error == "Runner exited with code 1"
    assert first.error_type == "ail:runner/invocation-failed"
    assert f"\n— resumed at {local_time(at(30))} after it failed —\n" in format_ail_log(run)


def test_a_resumed_run_that_fails_again_is_still_resumable(tmp_path: Path) -> None:
    run = read(tmp_path, [
        run_started(), started("a", 1), finished(2, "failed", "first"),
        resumed(10), started("a", 11), finished(12, "failed", "second"),
    ])
    assert run.status == "failed" and run.error == "second" and run.resumable
    assert [a.error for a in run.step("a").attempts] == ["first", "second"]  # type: ignore[union-attr]


def test_two_resumes(tmp_path: Path) -> None:
    run = read(tmp_path, [
        run_started(), started("a", 1),  # crash
        resumed(10), started("a", 11), entry("a", response="A"), started("b", 12),
        finished(13, "cancelled", "run cancelled by user"),
        resumed(20), started("b", 21), entry("b", response="B"), finished(22, "completed"),
    ])
    assert run.resumes == [at(10), at(20)]
    assert [s.ended for s in run.segments] == ["interrupted", "cancelled", "completed"]
    assert statuses(run, "a") == [("interrupted", 0), ("done", 1)]
    assert statuses(run, "b") == [("cancelled", 1), ("done", 2)]
    cancelled = run.step("b").attempts[0]  # type: ignore[union-attr]
    assert (cancelled.cancelled_by, cancelled.reason) == ("run", "run cancelled by user")
    text = format_ail_log(run)
    assert [line for line in text.splitlines() if line.startswith(("## ", "— "))] == [
        "## Turn 1 — `a`",
        f"— resumed at {local_time(at(10))} after a crash —",
        "## Turn 2 — `a`",
        "## Turn 3 — `b`",
        f"— resumed at {local_time(at(20))} after it was cancelled —",
        "## Turn 4 — `b`",
    ]
    assert run.status == "completed" and not run.resumable


def test_a_resume_with_nothing_after_it_yet(tmp_path: Path) -> None:
    run = read(tmp_path, [run_started(), started("a", 1), entry("a"), resumed(5)])
    assert run.status == "interrupted" and run.resumable
    assert [s.ended for s in run.segments] == ["interrupted", "interrupted"]
    assert format_ail_log(run).endswith(
        f"\n— resumed at {local_time(at(5))} after a crash —\n")


def test_reused_entries_are_done_attempts_of_their_own(tmp_path: Path) -> None:
    run = read(tmp_path, [
        run_started(),
        entry("a", response="A", cost_usd=0.5, reused_from="0ld-run"),
        started("b", 1),
        {"at": ts(2), "error_detail": "boom", "error_type": "ail:runner/invocation-failed",
         "on_error_action": "continue", "step_id": "b", "type": "step_error"},
        entry("b", response="", reused_from="0ld-run"),  # not the synthetic entry
        started("c", 3), entry("c", response="C", cost_usd=0.25),
        finished(4, "completed"),
    ])
    a, b = run.step("a"), run.step("b")
    assert a is not None and b is not None
    assert [(x.status, x.reused_from) for x in a.attempts] == [("done", "0ld-run")]
    assert a.reused_from == "0ld-run" and not a.reconciled
    assert [x.status for x in b.attempts] == ["failed", "done"] and b.reused_from == "0ld-run"
    assert run.step("c").reused_from is None  # type: ignore[union-attr]
    assert run.total_cost == pytest.approx(0.25)  # the reused cost was spent by 0ld-run
    assert RunSummary.of(run).total_cost == pytest.approx(0.25)
    assert format_ail_log(run).startswith(
        "ail-log/1\n\n## Turn 1 — `a`\n\n_Reused from run 0ld-run_\n\nA\n\n---\n"
        "_Cost: $0.5000 | 0in / 0out tokens_\n")


def test_a_reconciled_entry_after_a_crash(tmp_path: Path) -> None:
    run = read(tmp_path, [
        run_started(), started("deploy", 1),  # crash mid-step
        resumed(10), entry("deploy", stdout="v42\n", exit_code=0, reconciled=True),
        finished(11, "completed"),
    ])
    deploy = run.step("deploy")
    assert deploy is not None and deploy.reconciled and deploy.reused_from is None
    assert statuses(run, "deploy") == [("interrupted", 0), ("done", 1)]
    assert [a.reconciled for a in deploy.attempts] == [False, True]
    assert ("\n## Turn 2 — `deploy`\n"
            "\n_Reconciled: recovered by its `reconcile` command after the run stopped_\n"
            '\n:::stdio stream="stdout"\nv42\n\n:::\n') in format_ail_log(run)


def test_a_reconciled_entry_closes_the_attempt_it_follows(tmp_path: Path) -> None:
    run = read(tmp_path, [run_started(), started("s", 1), resumed(5), started("s", 6),
                          entry("s", response="r", reconciled=True), finished(7, "completed")])
    assert statuses(run, "s") == [("interrupted", 0), ("done", 1)]
    assert run.step("s").reconciled  # type: ignore[union-attr]


def test_loop_iterations(tmp_path: Path) -> None:
    run = read(tmp_path, [
        run_started(), started("loop", 1, prompt="do_while(max_iterations=3)"),
        started("check", 2, iteration=[1]), entry("check", response="no", iteration=[1]),
        started("check", 3, iteration=[2]),
        {"at": ts(4), "error_detail": "exit 1", "error_type": "ail:runner/invocation-failed",
         "iteration": [2], "on_error_action": "retry", "step_id": "check",
         "type": "step_error"},
        started("check", 5, iteration=[2]), entry("check", response="yes", iteration=[2]),
        started("inner", 6, iteration=[2, 1]),
        {"at": ts(7), "cancelled_by": "user", "iteration": [2, 1], "reason": "stop",
         "step_id": "inner", "type": "step_cancelled"},
        entry("loop", response="yes"), finished(8, "completed"),
    ])
    check = run.step("check")
    assert check is not None
    assert [(a.status, a.iteration) for a in check.attempts] == [
        ("done", (1,)), ("retried", (2,)), ("done", (2,))]
    assert run.step("inner").attempts[0].iteration == (2, 1)  # type: ignore[union-attr]
    assert run.step("loop").attempts[0].iteration is None  # type: ignore[union-attr]
    headings = [line for line in format_ail_log(run).splitlines() if line.startswith("## ")]
    assert headings == ["## Turn 1 — `loop`", "## Turn 2 — `check` (iteration 1)",
                        "## Turn 3 — `check` (iteration 2)",
                        "## Turn 4 — `inner` (iteration 2.1)"]
    text = format_ail_log(run)
    assert "\n## Turn 3 — `check` (iteration 2)\n\nyes\n" in text
    attempts = format_json(run)["attempts"]
    assert [(x["step_id"], x["status"], x["iteration"]) for x in attempts] == [
        ("loop", "done", None), ("check", "done", [1]), ("check", "retried", [2]),
        ("check", "done", [2]), ("inner", "cancelled", [2, 1])]


def test_an_entry_of_the_next_iteration_or_segment_is_not_a_synthetic_one(tmp_path: Path) -> None:
    continued = {"at": ts(2), "error_detail": "x", "error_type": "ail:runner/invocation-failed",
                 "iteration": [1], "on_error_action": "continue", "step_id": "b",
                 "type": "step_error"}
    run = read(tmp_path, [
        run_started(), started("b", 1, iteration=[1], concurrent_group=GROUP), continued,
        entry("b", response="", iteration=[2], concurrent_group=GROUP),
        finished(3, "completed"),
    ])
    b = run.step("b")
    assert b is not None
    assert [(a.status, a.iteration) for a in b.attempts] == [("failed", (1,)), ("done", (2,))]
    run = read(tmp_path, [run_started(), started("b", 1), {**continued, "iteration": None},
                          resumed(5), entry("b", response=""), finished(6, "completed")])
    assert statuses(run, "b") == [("failed", 0), ("done", 1)]


@pytest.mark.parametrize(("ending", "status", "resumable"), [
    ([finished(9, "completed")], "completed", False),
    ([finished(9, "break")], "break", False),
    ([finished(9, "failed", "boom")], "failed", True),
    ([finished(9, "aborted", "boom")], "aborted", True),
    ([finished(9, "cancelled", "stop")], "cancelled", True),
    ([], "interrupted", True),
    ([resumed(20), finished(21, "completed")], "completed", False),
    ([resumed(20), started("b", 21)], "interrupted", True),
    ([resumed(20), finished(21, "aborted", "again")], "aborted", True),
])
def test_status_and_resumable_of_each_end(tmp_path: Path, ending: list[dict], status: str,
                                          resumable: bool) -> None:
    run = read(tmp_path, [run_started(), started("a", 1), entry("a"), *ending])
    assert (run.status, run.resumable) == (status, resumable)
    summary = RunSummary.of(run)
    assert (summary.status, summary.resumable) == (status, resumable)
    assert summary.resumes == tuple(run.resumes)
    assert format_json(run)["resumable"] is resumable


def test_a_running_resumed_run_is_not_resumable(tmp_path: Path) -> None:
    path = write(tmp_path, [run_started(), started("a", 1), finished(2, "failed", "x"),
                            resumed(5), started("a", 6)])
    fd = os.open(path, os.O_RDONLY)
    try:
        hold(fd)
        run = read_run(path)
    finally:
        os.close(fd)
    assert run.status == "running" and not run.resumable
    assert statuses(run, "a") == [("failed", 0), ("running", 1)]
    assert read_run(path).status == "interrupted"  # once its writer is gone


def test_rust_logs_are_resumable_only_when_they_did_not_complete(tmp_path: Path) -> None:
    rust = {"pipeline_source": "/w/p.ail.yaml", "project_hash": "h", "type": "run_started"}
    clean = read_run(write(tmp_path, [rust, entry("a")], "clean"))
    crashed = read_run(write(tmp_path, [rust, {"prompt": "p", "step_id": "a",
                                               "type": "step_started"}], "crashed"))
    assert (clean.status, clean.resumable) == ("completed", False)
    assert (crashed.status, crashed.resumable) == ("interrupted", True)


def old_logs() -> list[list[dict]]:
    """Logs written before durable runs: ours (retries, continue, cancels, a crash) and
    Rust's (sequential, async entries and a join, exhausted retries)."""
    rust_started = {"pipeline_source": "/w/p.ail.yaml", "project_hash": "h",
                    "type": "run_started"}
    error = {"error_detail": "e", "error_type": "ail:runner/invocation-failed",
             "step_id": "s", "type": "step_error"}
    return [
        [{**rust_started, "at": ts(0)}, started("s", 1),
         {**error, "on_error_action": "retry", "at": ts(2)}, started("s", 3),
         entry("s", response="ok"), started("b", 4, concurrent_group=GROUP),
         {**error, "step_id": "b", "on_error_action": "continue", "at": ts(5)},
         entry("b", response="", concurrent_group=GROUP),
         {"at": ts(5), "cancelled_by": "fail_fast", "concurrent_group": GROUP,
          "event": "step_cancelled", "reason": "r", "step_id": "q"},
         finished(6, "aborted", "x")],
        [{**rust_started, "at": ts(0)}, started("a", 1), entry("a"), started("b", 2)],
        [rust_started, {"prompt": "p", "step_id": "s", "type": "step_started"},
         entry("s", response="r"),
         entry("x", concurrent_group=GROUP, launched_at=ts(0), completed_at=ts(1)),
         entry("j", prompt="join:[x]")],
        [rust_started, {"prompt": "p", "step_id": "s", "type": "step_started"},
         {**error, "on_error_action": "retry"},
         {"prompt": "p", "step_id": "s", "type": "step_started"},
         {**error, "on_error_action": "abort_pipeline"}],
    ]


@pytest.mark.parametrize("records", old_logs())
def test_old_logs_read_as_before(tmp_path: Path, records: list[dict]) -> None:
    run = read(tmp_path, records)
    assert run.resumes == [] and len(run.segments) == 1
    assert run.segments[0].ended == run.status
    assert run.segments[0].pipeline_hash is None and run.segments[0].step_hashes == {}
    for step in run.steps:
        for attempt in step.attempts:
            assert attempt.segment == 0 and attempt.iteration is None
            assert attempt.reused_from is None and not attempt.reconciled
        assert step.reused_from is None and not step.reconciled
    # One turn per step, holding all of its attempts: the ail-log/1 of before.
    views = turns(run)
    assert all(not isinstance(v, Segment) for v in views)
    assert [(v.step_id, v.attempts) for v in views  # type: ignore[union-attr]
            ] == [(s.step_id, s.attempts) for s in run.steps]
    assert "(iteration" not in format_ail_log(run) and "resumed at" not in format_ail_log(run)


def test_run_started_hashes_are_kept(tmp_path: Path) -> None:
    run = read(tmp_path, [run_started(), resumed(5, "p2"), finished(6, "completed")])
    assert [(s.pipeline_hash, s.step_hashes) for s in run.segments] == [
        ("p1", HASHES), ("p2", HASHES)]
    rust = read_run(write(tmp_path, [{"pipeline_source": None, "project_hash": "h",
                                      "type": "run_started"}], "rust"))
    assert rust.segments[0].pipeline_hash is None and rust.segments[0].step_hashes == {}


def test_json_of_a_resumed_run(tmp_path: Path) -> None:
    data = format_json(read(tmp_path, crash_then_resume()))
    assert data["resumable"] is False and data["resumes"] == [ts(60)]
    assert [(a["step_id"], a["attempt"], a["status"], a["segment"])
            for a in data["attempts"]] == [
        ("a", 1, "done", 0), ("b", 1, "interrupted", 0), ("b", 2, "done", 1),
        ("c", 1, "done", 1)]
    json.dumps(data)
