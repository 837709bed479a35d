"""read_run: Rust logs and ours, attempts, cancellations, run status heuristics, damage."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from turn_records import RUN_STARTED, entry, error, rust_opening, started, ts, write

from ail_tui.turnlog.reader import read_run
from ail_tui.turnlog.timestamps import parse_timestamp

GROUP = "cg-7f3a91c2"


def test_sequential_rust_log(tmp_path: Path) -> None:
    path = write(tmp_path, [
        *rust_opening(),
        started("review", "Review this change"),
        entry("review", prompt="Review this change", response="Looks fine.",
              cost_usd=0.0042, input_tokens=120, output_tokens=30),
    ])
    os.utime(path, (1_700_000_000, 1_700_000_000))
    run = read_run(path)
    assert run.run_id == "run" and run.path == path
    assert run.pipeline_source == "/w/p.ail.yaml" and run.project_hash == "5d41"
    assert run.status == "completed" and run.written_by == "ail"
    assert not run.has_run_finished and not run.torn_tail and run.warnings == []
    assert [s.step_id for s in run.steps] == ["diff", "review"]
    assert run.started_at == run.finished_at == 1_700_000_000
    assert run.duration is None and not run.has_timestamps
    diff = run.step("diff")
    assert diff.status == "done" and diff.attempts[0].prompt == "git diff --stat"
    assert diff.cost_usd is None and diff.launched_at is None and diff.concurrent_group is None
    review = run.step("review")
    assert review.entry["response"] == "Looks fine."
    assert (review.cost_usd, review.input_tokens, review.output_tokens) == (0.0042, 120, 30)
    assert run.total_cost == pytest.approx(0.0042)
    assert run.counts() == {"done": 2} and run.groups() == {}
    assert len(run.records) == 5


def test_async_log_with_groups_times_and_join(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [
        {**RUN_STARTED, "at": ts(0)},
        started("a", "run a", at=ts(0.1), concurrent_group=GROUP, launched_at=ts(0.1)),
        started("b", "run b", at=ts(0.5), concurrent_group=GROUP, launched_at=ts(0.1)),
        entry("a", prompt="run a", response="A", cost_usd=0.001, concurrent_group=GROUP,
              launched_at=ts(0.1), started_at=ts(0.1), completed_at=ts(1.0)),
        entry("b", prompt="run b", response="B", cost_usd=0.002, concurrent_group=GROUP,
              launched_at=ts(0.1), started_at=ts(0.5), completed_at=ts(2.0)),
        entry("join", prompt="join:[a,b]", response="[a]:\nA\n\n[b]:\nB\n",
              launched_at=ts(0.1), completed_at=ts(2.0)),
        {"at": ts(2.5), "status": "completed", "type": "run_finished"},
    ]))
    assert run.status == "completed" and run.written_by == "ail-tui"
    assert list(run.groups()) == [GROUP]
    assert [s.step_id for s in run.groups()[GROUP]] == ["a", "b"]
    b = run.step("b")
    assert b.launched_at == parse_timestamp(ts(0.1))
    assert b.started_at == parse_timestamp(ts(0.5))
    assert b.completed_at == parse_timestamp(ts(2.0))
    assert b.times == {"launched_at": ts(0.1), "started_at": ts(0.5), "completed_at": ts(2.0)}
    assert [a.status for a in b.attempts] == ["done"]
    join = run.step("join")
    assert join.is_join and join.join_deps == ["a", "b"] and join.concurrent_group is None
    assert not b.is_join and b.join_deps == []
    assert run.duration == pytest.approx(2.5)
    assert run.started_at == parse_timestamp(ts(0))
    assert run.total_cost == pytest.approx(0.003)


def test_rust_async_entries_without_step_started_are_done(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [
        RUN_STARTED,
        entry("lint", prompt="run lint", concurrent_group=GROUP, launched_at=ts(0.101),
              completed_at=ts(0.130)),
        entry("checks", prompt="join:[lint]", launched_at=ts(0.101), completed_at=ts(0.130)),
    ]))
    lint = run.step("lint")
    assert lint.status == "done" and lint.started_at is None
    assert lint.completed_at - lint.launched_at == pytest.approx(0.029, abs=1e-6)
    assert run.status == "completed" and run.written_by == "ail"
    assert run.has_timestamps and run.duration == pytest.approx(0.029, abs=1e-6)


def test_retried_step_then_success(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [
        RUN_STARTED,
        started("ship", "ship it"),
        error("ship", "retry", "Process exited with 1", max_retries=2, retry_attempt=1),
        started("ship", "ship it"),
        entry("ship", prompt="ship it", response="Shipped.", cost_usd=0.003),
    ]))
    ship = run.step("ship")
    assert [a.status for a in ship.attempts] == ["retried", "done"]
    assert [a.number for a in ship.attempts] == [1, 2]
    first = ship.attempts[0]
    assert first.error == "Process exited with 1"
    assert first.error_type == "ail:runner/invocation-failed"
    assert ship.status == "done" and ship.error is None
    assert run.status == "completed"


def test_continue_error_fails_the_step_but_not_the_run(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [
        RUN_STARTED,
        started("flaky"),
        error("flaky", "continue", "Process exited with 2"),
        started("next"),
        entry("next", response="ok"),
    ]))
    flaky = run.step("flaky")
    assert flaky.status == "failed" and flaky.entry is None
    assert flaky.attempts[0].error_type == "ail:runner/invocation-failed"
    assert flaky.error == "Process exited with 2"
    assert run.status == "completed" and run.counts() == {"failed": 1, "done": 1}


def test_branch_synthetic_entry_after_continue_stays_failed(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [
        {**RUN_STARTED, "at": ts(0)},
        started("b", at=ts(0.1), concurrent_group=GROUP, launched_at=ts(0)),
        error("b", "continue", at=ts(0.4)),
        entry("b", response="", concurrent_group=GROUP, launched_at=ts(0),
              started_at=ts(0.1), completed_at=ts(0.4)),
        {"at": ts(1), "status": "completed", "type": "run_finished"},
    ]))
    b = run.step("b")
    assert [a.status for a in b.attempts] == ["failed"]
    assert b.entry is not None and b.completed_at == parse_timestamp(ts(0.4))


@pytest.mark.parametrize("spelling", ["type", "event"])
def test_cancelled_branch(tmp_path: Path, spelling: str) -> None:
    cancel = {"at": ts(1.5), "cancelled_by": "fail_fast",
              "reason": "sibling 'a' failed", "step_id": "slow", spelling: "step_cancelled"}
    run = read_run(write(tmp_path, [
        {**RUN_STARTED, "at": ts(0)},
        started("slow", "sleep 30", at=ts(0.2), concurrent_group=GROUP, launched_at=ts(0)),
        cancel,
        {**cancel, "step_id": "queued", "concurrent_group": GROUP, "launched_at": ts(0)},
        {"at": ts(1.6), "error": "x", "error_type": "ail:pipeline/aborted",
         "status": "aborted", "type": "run_finished"},
    ]))
    slow, queued = run.step("slow"), run.step("queued")
    assert slow.status == queued.status == "cancelled"
    last = slow.attempts[-1]
    assert (last.cancelled_by, last.reason) == ("fail_fast", "sibling 'a' failed")
    assert last.at == parse_timestamp(ts(1.5)) == slow.completed_at
    assert slow.error == "cancelled by fail_fast: sibling 'a' failed"
    assert slow.started_at - slow.launched_at == pytest.approx(0.2, abs=1e-6)
    assert queued.started_at is None and queued.concurrent_group == GROUP
    assert queued.launched_at == parse_timestamp(ts(0))
    assert [s.step_id for s in run.groups()[GROUP]] == ["slow", "queued"]


@pytest.mark.parametrize(("status", "closing"), [
    ("completed", "failed"), ("break", "failed"), ("aborted", "failed"),
    ("failed", "failed"), ("cancelled", "cancelled")])
def test_run_finished_status_and_open_attempts(tmp_path: Path, status: str,
                                               closing: str) -> None:
    finished = {"at": ts(3), "status": status, "type": "run_finished"}
    if status != "completed":
        finished |= {"error": "Step 'a' timed out", "error_type": "ail:runner/cancelled"}
    run = read_run(write(tmp_path, [{**RUN_STARTED, "at": ts(0)},
                                    started("a", at=ts(1)), finished]))
    assert run.status == status and run.has_run_finished
    assert run.finished_at == parse_timestamp(ts(3)) and run.duration == pytest.approx(3)
    attempt = run.step("a").attempts[-1]
    assert attempt.status == closing
    if status != "completed":
        assert run.error == attempt.error == "Step 'a' timed out"
        assert run.error_type == "ail:runner/cancelled"
    if closing == "cancelled":
        assert attempt.cancelled_by == "run"


def test_torn_last_line_reads_as_interrupted(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [RUN_STARTED, started("a"), entry("a"), started("b")],
                         tail='{"cost_usd":0.1,"exi'))
    assert run.torn_tail and run.warnings == []
    assert run.status == "interrupted"
    assert run.step("a").status == "done" and run.step("b").status == "interrupted"
    assert len(run.records) == 4


def test_torn_tail_alone_makes_a_clean_rust_log_interrupted(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [RUN_STARTED, started("a"), entry("a")],
                         tail='{"prompt":"b","st'))
    assert run.torn_tail and run.status == "interrupted"
    assert run.step("a").status == "done"


def test_garbage_middle_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, [RUN_STARTED, started("a")])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("not json at all\n\n   \n[1, 2]\n")
        handle.write(json.dumps(entry("a", response="ok"), sort_keys=True) + "\n\n")
    run = read_run(path)
    assert run.warnings == ["line 3 is not JSON; skipped",
                            "line 6 is not a JSON object; skipped"]
    assert not run.torn_tail
    assert run.step("a").status == "done" and run.status == "completed"


def test_unknown_types_and_keys_are_ignored(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [
        {**RUN_STARTED, "future_key": [1, 2]},
        {"step_id": "ghost", "type": "something_new", "at": "whenever"},
        {"event": "something_else", "step_id": "ghost2", "type": "also_new"},
        started("a", brand_new=True),
        entry("a", response="ok", model_of_the_future={"x": 1}),
        {"type": "step_error", "error_detail": "no step id"},
    ]))
    assert [s.step_id for s in run.steps] == ["a"]
    assert run.step("a").status == "done"
    assert run.warnings == ["line 6: step_error without a step_id; skipped"]
    assert len(run.records) == 6


def test_rust_exhausted_retries_read_as_failed(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [
        RUN_STARTED, started("a"), error("a", "retry"), started("a"),
        error("a", "abort_pipeline", "still broken"),
    ]))
    assert run.status == "failed"
    assert [a.status for a in run.step("a").attempts] == ["retried", "failed"]


def test_rust_open_attempt_at_eof_is_interrupted(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [RUN_STARTED, started("a"), entry("a"), started("b")]))
    assert run.status == "interrupted" and not run.torn_tail
    assert run.step("b").status == "interrupted"
    assert run.counts() == {"done": 1, "interrupted": 1}


def test_our_log_without_run_finished_is_interrupted(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [
        {**RUN_STARTED, "at": ts(0)}, started("a", at=ts(0.1)),
        entry("a", launched_at=ts(0.1), completed_at=ts(0.3)),
    ]))
    assert run.step("a").status == "done"
    assert run.status == "interrupted" and run.written_by == "ail-tui"
    assert run.finished_at == parse_timestamp(ts(0.3))


def test_empty_file_is_interrupted(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, [], tail="\n\n"))
    assert run.status == "interrupted" and run.steps == [] and run.records == []
    assert run.started_at is not None and run.duration is None


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        read_run(tmp_path / "nope.jsonl")
