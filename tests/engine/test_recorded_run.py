"""RecordedRun: a turn log (ours, the Rust ail's, a crashed run's) as a finished RunHandle.

Its events are the ones a live run would have emitted, so the dashboard's view of a
replay is built the way a live run's is, and shows the same.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import make_executor
from turn_records import RUN_STARTED, at, entry, error, rust_opening, started, ts, write

from ail_tui.engine import events as ev
from ail_tui.engine.recorded_events import UNFINISHED
from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.engine.run_handle import RunHandle
from ail_tui.engine.run_types import RunStatus
from ail_tui.pipeline.loader import Pipeline
from ail_tui.runners.permissions import PermissionDecision
from ail_tui.tui.run_view import RunView
from ail_tui.turnlog.liveness import hold
from ail_tui.turnlog.timestamps import parse_timestamp

GROUP = "cg-7f3a91c2"
SAME = ("status", "kind", "attempts", "history", "cost_usd", "input_tokens",
        "output_tokens", "error", "error_type", "response", "exit_code", "thinking", "model",
        "tool_events", "cancelled_by", "group")
TIMES = ("launched_at", "started_at", "completed_at")


def view_of(events: list[ev.Event] | tuple[ev.Event, ...],
            pipeline: Pipeline | None = None) -> RunView:
    view = RunView.planned(pipeline)
    for event in events:
        view.apply(event)
    return view


def kinds(run: RecordedRun, step_id: str | None = None) -> list[str]:
    return [e.type for e in run.events
            if step_id is None or getattr(e, "step_id", None) == step_id]


def live_and_replayed(tmp_path: Path, text: str, **options: Any
                      ) -> tuple[RunView, RunView, RecordedRun]:
    """A stub run of ``text``: the view of its events, and of its turn log's replay."""
    events: list[ev.Event] = []
    executor = make_executor(tmp_path, text, sink=events.append, **options)
    result = executor.run()
    assert result.log_path is not None
    replay = RecordedRun.read(result.log_path)
    return (view_of(events, executor.pipeline), view_of(replay.events, executor.pipeline),
            replay)


def assert_same_view(live: RunView, replayed: RunView, *, log_only: tuple[str, ...] = ()
                     ) -> None:
    """The replay shows what the live run showed (times: to the log's millisecond).

    ``log_only``: steps the turn log has no record of (a join that failed), left out.
    A shell step's or a join's prompt is the log's (a live run announces none).
    """
    assert (replayed.run_id, replayed.log_path, replayed.state, replayed.error,
            replayed.error_type) == (live.run_id, live.log_path, live.state, live.error,
                                     live.error_type)
    assert replayed.started_at == pytest.approx(live.started_at, abs=0.002)
    assert replayed.finished_at == pytest.approx(live.finished_at, abs=0.002)
    assert list(replayed.rows) == list(live.rows)
    for step_id, row in live.rows.items():
        if step_id in log_only:
            continue
        other = replayed.rows[step_id]
        for name in SAME:
            assert getattr(other, name) == getattr(row, name), (step_id, name)
        assert list(other.output) == list(row.output), step_id
        if row.prompt is not None:
            assert other.prompt == row.prompt, step_id
        for name in TIMES:
            expected = getattr(row, name)
            assert getattr(other, name) == (expected if expected is None else pytest.approx(
                expected, abs=0.05)), (step_id, name)


def test_a_real_run_replays_as_it_was_seen_live(tmp_path: Path) -> None:
    live, replayed, replay = live_and_replayed(tmp_path, """
        version: "1"
        pipeline:
          - id: greet
            prompt: "Say hi"
          - id: list
            context: {shell: "echo one; echo two"}
          - id: a
            async: true
            prompt: "run a"
          - id: b
            async: true
            depends_on: [a]
            context: {shell: "echo from b"}
          - id: both
            action: join
            depends_on: [a, b]
          - id: flaky
            prompt: "may fail"
            on_error: continue
          - id: last
            prompt: "Last: {{ step.greet.response }}"
        """, script={"default": {"cost_usd": 0.002, "input_tokens": 12, "output_tokens": 3},
                     "steps": {"greet": {"response": "Hi!\nTwo lines."},
                               "flaky": {"error": "Process exited with 1"}}})
    assert_same_view(live, replayed)
    assert replayed.state == "completed"
    assert replayed.rows["greet"].response == "Hi!\nTwo lines."
    assert list(replayed.rows["list"].output) == ["one", "two"]
    assert replayed.rows["list"].prompt == "echo one; echo two"
    assert replayed.rows["both"].prompt == "join:[a,b]"
    assert replayed.rows["flaky"].history == [
        "attempt 1: failed [ail:runner/invocation-failed] Process exited with 1"]
    assert replayed.rows["last"].prompt == "Last: Hi!\nTwo lines."
    assert kinds(replay, "b") == ["step_queued", "step_started", "step_output",
                                  "step_completed"]
    assert kinds(replay, "flaky") == ["step_started", "step_failed", "step_error_continued"]
    # Every event's time is the log's.
    records = replay.record.records
    assert replay.events[0].at == parse_timestamp(records[0]["at"])
    assert replay.events[-1].at == parse_timestamp(records[-1]["at"])
    starts = [parse_timestamp(r["at"]) for r in records if r.get("type") == "step_started"]
    assert [e.at for e in replay.events if isinstance(e, ev.StepStarted)
            and e.step_id != "both"] == starts
    assert [e.at for e in replay.events] == sorted(e.at for e in replay.events)


def test_retries_that_run_out_replay_each_attempt(tmp_path: Path) -> None:
    live, replayed, replay = live_and_replayed(tmp_path, """
        version: "1"
        pipeline:
          - id: scan
            prompt: scan
            on_error: retry
            max_retries: 2
        """, script={"steps": {"scan": {"error": "Process exited with 1"}}})
    assert_same_view(live, replayed)
    assert replayed.state == "failed" and replayed.rows["scan"].attempts == 3
    assert replayed.rows["scan"].history == [
        f"attempt {n}: failed [ail:runner/invocation-failed] Process exited with 1"
        for n in (1, 2, 3)]
    retrying = [e for e in replay.events if isinstance(e, ev.StepRetrying)]
    assert [(e.attempt, e.max_retries) for e in retrying] == [(1, 2), (2, 2)]
    assert replay.wait().status is RunStatus.FAILED


def test_fail_fast_cancellations_replay_as_seen_live(tmp_path: Path) -> None:
    live, replayed, replay = live_and_replayed(tmp_path, """
        version: "1"
        pipeline:
          - id: bad
            async: true
            prompt: bad
          - id: sleeper
            async: true
            context: {shell: "sleep 30"}
          - id: queued
            async: true
            depends_on: [sleeper]
            prompt: never
          - id: j
            action: join
            depends_on: [bad, sleeper, queued]
        """, script={"steps": {"bad": {"delay": 0.3, "error": "boom"}}})
    # The join's own failure is in no record of the log (only in run_finished's error).
    assert_same_view(live, replayed, log_only=("j",))
    assert replayed.state == "aborted" and replayed.rows["j"].status == "pending"
    sleeper, queued = replayed.rows["sleeper"], replayed.rows["queued"]
    assert (sleeper.status, sleeper.cancelled_by) == ("cancelled", "bad")  # P3
    assert queued.attempts == 0 and queued.history == [
        "attempt 1: cancelled by bad: join 'j': dependency 'bad' failed"]
    assert kinds(replay, "queued") == ["step_queued", "step_cancelled"]
    result = replay.wait()
    assert result.status is RunStatus.ABORTED and not result.succeeded
    assert result.error == "Join dependency 'bad' failed (fail_fast): boom"


def test_a_rust_log_without_timestamps(tmp_path: Path) -> None:
    path = write(tmp_path, [
        *rust_opening(stderr="warn\n"),
        started("ship", "ship it"),
        error("ship", "retry", "Process exited with 1", max_retries=2, retry_attempt=1),
        started("ship", "ship it"),
        entry("ship", prompt="ship it", response="Shipped.", cost_usd=0.003,
              input_tokens=120, output_tokens=30, thinking="pondering",
              model="claude-sonnet-4", runner_session_id="s1",
              tool_events=[{"type": "tool_use", "tool_name": "Bash", "tool_id": "t1"}]),
    ])
    os.utime(path, (1_700_000_000, 1_700_000_000))
    replay = RecordedRun.read(path)
    assert kinds(replay) == [
        "run_started", "step_started", "step_output", "step_output", "step_completed",
        "step_started", "step_failed", "step_retrying", "step_started", "runner_event",
        "step_completed", "pipeline_completed"]
    assert {e.at for e in replay.events} == {1_700_000_000}  # the file's time, as read
    view = view_of(replay.events)
    assert view.state == "completed" and list(view.rows) == ["diff", "ship"]
    diff, ship = view.rows["diff"], view.rows["ship"]
    assert list(diff.output) == [" a.py | 2 +-", "[stderr] warn"]
    assert (diff.exit_code, diff.prompt, diff.status) == (0, "git diff --stat", "done")
    assert (ship.status, ship.attempts, ship.error) == ("done", 2, None)
    assert ship.history == [
        "attempt 1: failed [ail:runner/invocation-failed] Process exited with 1",
        "attempt 2: done"]
    assert (ship.cost_usd, ship.input_tokens, ship.output_tokens) == (0.003, 120, 30)
    assert (ship.thinking, ship.model, ship.response) == ("pondering", "claude-sonnet-4",
                                                          "Shipped.")
    assert ship.tool_events == [{"type": "tool_use", "tool_name": "Bash", "tool_id": "t1"}]
    result = replay.wait()
    assert result.status is RunStatus.COMPLETED and result.last_response == "Shipped."
    assert result.last_session_id == "s1" and result.log_path == path


def test_rust_async_entries_are_queued_started_and_completed_in_time_order(
        tmp_path: Path) -> None:
    replay = RecordedRun.read(write(tmp_path, [
        RUN_STARTED,
        entry("slow", prompt="run slow", response="S", concurrent_group=GROUP,
              launched_at=ts(0.1), completed_at=ts(0.9)),
        entry("quick", prompt="run quick", response="Q", concurrent_group=GROUP,
              launched_at=ts(0.2), completed_at=ts(0.3)),
        entry("checks", prompt="join:[slow,quick]", response="[slow]:\nS\n\n[quick]:\nQ\n",
              launched_at=ts(0.1), completed_at=ts(0.9)),
    ]))
    order = [(e.type, getattr(e, "step_id", None)) for e in replay.events]
    assert order == [
        ("run_started", None), ("step_queued", "slow"), ("step_started", "slow"),
        ("step_queued", "quick"), ("step_started", "quick"), ("step_completed", "quick"),
        ("step_completed", "slow"), ("step_started", "checks"), ("step_completed", "checks"),
        ("pipeline_completed", None)]
    view = view_of(replay.events)
    slow, checks = view.rows["slow"], view.rows["checks"]
    assert (slow.group, slow.launched_at, slow.completed_at) == (GROUP, at(0.1), at(0.9))
    assert checks.started_at == checks.completed_at == at(0.9)  # a join runs at its end
    assert view.started_at == at(0.1) and view.finished_at == at(0.9)


def test_a_crashed_run_ends_interrupted(tmp_path: Path) -> None:
    replay = RecordedRun.read(write(tmp_path, [
        {**RUN_STARTED, "at": ts(0)},
        started("a", "run a", at=ts(0.1)),
        entry("a", prompt="run a", response="A", launched_at=ts(0.1), completed_at=ts(0.5)),
        started("b", "run b", at=ts(0.6)),
    ]))
    last = replay.events[-1]
    assert isinstance(last, ev.PipelineError)
    assert (last.status, last.error, last.at) == ("interrupted", UNFINISHED, at(0.6))
    view = view_of(replay.events)
    assert view.state == "interrupted" and not view.running
    b = view.rows["b"]
    assert (b.status, b.glyph, b.history) == ("interrupted", "?", ["attempt 1: interrupted"])
    assert b.completed_at == at(0.6) and view.rows["a"].status == "done"
    result = replay.wait(0)
    assert result.status is RunStatus.FAILED and result.error == UNFINISHED


def test_a_run_being_written_has_no_end_yet(tmp_path: Path) -> None:
    path = write(tmp_path, [{**RUN_STARTED, "at": ts(0)}, started("a", "run a", at=ts(0.1))])
    with path.open("a") as log:
        hold(log.fileno())
        replay = RecordedRun.read(path)
    assert kinds(replay) == ["run_started", "step_started"]
    view = view_of(replay.events)
    assert view.state == "running" and view.rows["a"].status == "running"
    assert replay.wait().status is RunStatus.FAILED


@pytest.mark.parametrize(("status", "closed", "error"), [
    ("failed", "failed", "boom"),
    ("cancelled", "cancelled", "cancelled by run: run cancelled by user"),
])
def test_attempts_open_at_the_recorded_end(tmp_path: Path, status: str, closed: str,
                                           error: str) -> None:
    reason = "boom" if status == "failed" else "run cancelled by user"
    replay = RecordedRun.read(write(tmp_path, [
        {**RUN_STARTED, "at": ts(0)},
        started("a", "run a", at=ts(0.1)),
        {"at": ts(1), "error": reason, "error_type": "ail:runner/invocation-failed",
         "status": status, "type": "run_finished"},
    ]))
    assert kinds(replay, "a") == ["step_started", f"step_{closed}"]
    view = view_of(replay.events)
    row = view.rows["a"]
    assert (view.state, row.status, row.error, row.completed_at) == (
        status, closed, error, at(1))
    assert replay.wait().status is RunStatus(status)


def test_a_branch_continued_after_an_error_stays_failed(tmp_path: Path) -> None:
    replay = RecordedRun.read(write(tmp_path, [
        {**RUN_STARTED, "at": ts(0)},
        started("a", "run a", at=ts(0.1), concurrent_group=GROUP, launched_at=ts(0.1)),
        {**error("a", "continue"), "at": ts(0.2)},
        entry("a", concurrent_group=GROUP, launched_at=ts(0.1), completed_at=ts(0.2)),
        {"at": ts(0.3), "status": "completed", "type": "run_finished"},
    ]))
    assert kinds(replay, "a") == ["step_queued", "step_started", "step_failed",
                                  "step_error_continued"]
    row = view_of(replay.events).rows["a"]
    assert (row.status, row.error, row.group) == ("failed", "boom", GROUP)


def test_a_finished_handle(tmp_path: Path) -> None:
    path = write(tmp_path, [RUN_STARTED, entry("a", prompt="p", response="r")])
    handle: RunHandle = RecordedRun.read(path)
    got: list[ev.Event] = []
    unsubscribe = handle.subscribe(got.append)
    assert [e.type for e in got] == ["run_started", "step_started", "step_completed",
                                     "pipeline_completed"]
    unsubscribe()
    second: list[ev.Event] = []
    handle.subscribe(second.append)
    assert second == got
    assert handle.run_id == "run" and not handle.paused
    assert not handle.cancel_step("a") and not handle.answer_gate("a")
    assert not handle.answer_permission("r1", PermissionDecision(allow=True))
    handle.cancel()
    handle.pause()
    handle.resume()
    result = handle.wait(0)
    assert result is not None and result.status is RunStatus.COMPLETED


def test_an_unreadable_log_raises(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        RecordedRun.read(tmp_path / "missing.jsonl")


# -- runs that went on from an earlier one (D1, D3, D4) ------------------------------------

RERUN = """
    version: "1"
    pipeline:
      - id: first
        context: {shell: "echo one"}
      - id: a
        async: true
        prompt: "run a"
      - id: b
        async: true
        prompt: "run b"
      - id: both
        action: join
        depends_on: [a, b]
      - id: last
        prompt: "Last: {{ step.first.result }}"
    """


def test_a_rerun_replays_its_reused_steps_as_seen_live(tmp_path: Path) -> None:
    from ail_tui.engine.continuing import continue_run
    from ail_tui.engine.executor import Executor
    from ail_tui.turnlog.reader import read_run

    earlier = make_executor(tmp_path, RERUN).run()
    assert earlier.log_path is not None
    events: list[ev.Event] = []
    first = make_executor(tmp_path, RERUN)
    going_on = continue_run(read_run(earlier.log_path), first.options, resume=False,
                            from_step="both")
    result = Executor(going_on.pipeline, going_on.options, events.append).run()
    assert result.log_path is not None
    replay = RecordedRun.read(result.log_path)
    live, replayed = view_of(events, going_on.pipeline), view_of(replay.events,
                                                                 going_on.pipeline)
    assert_same_view(live, replayed)
    # A reused shell step shows the lines it wrote, live (announced again) and replayed.
    assert list(replayed.rows["first"].output) == ["one"] == list(live.rows["first"].output)
    assert {k: r.status for k, r in replayed.rows.items()} == {
        "first": "reused", "a": "reused", "b": "reused", "both": "done", "last": "done"}
    assert {k: r.reused_from for k, r in replayed.rows.items()} == {
        "first": earlier.run_id, "a": earlier.run_id, "b": earlier.run_id, "both": None,
        "last": None}
    assert replayed.rows["first"].history == [f"reused from run {earlier.run_id}"]
    # Not run: nothing started (a branch is queued); the entry's answer is shown.
    assert kinds(replay, "first") == ["step_output", "step_completed"]
    assert kinds(replay, "a") == ["step_queued", "runner_event", "step_completed"]
    assert replayed.rows["a"].attempts == 0


def test_a_reconciled_step_replays_reconciled(tmp_path: Path) -> None:
    replay = RecordedRun.read(write(tmp_path, [
        {**RUN_STARTED, "at": ts(0)},
        started("deploy", "deploy it", at=ts(0.1)),
        {"at": ts(2), "type": "run_resumed"},
        started("deploy", "reconcile: ./check-deployed", at=ts(2.1)),
        entry("deploy", prompt="reconcile: ./check-deployed", response="v2 is live",
              reconciled=True, launched_at=ts(2.1), completed_at=ts(2.4)),
        {"at": ts(2.5), "status": "completed", "type": "run_finished"},
    ]))
    completed = [e for e in replay.events if isinstance(e, ev.StepCompleted)]
    assert [(e.reconciled, e.reused_from) for e in completed] == [(True, None)]
    row = view_of(replay.events).rows["deploy"]
    assert (row.status, row.glyph, row.response) == ("reconciled", "⇌", "v2 is live")
    assert row.history == ["attempt 1: interrupted", "attempt 2: reconciled"]


def test_a_crashed_then_resumed_run_replays_as_one_run(tmp_path: Path) -> None:
    replay = RecordedRun.read(write(tmp_path, [
        {**RUN_STARTED, "at": ts(0)},
        started("a", "run a", at=ts(0.1)),
        entry("a", prompt="run a", response="A", launched_at=ts(0.1), completed_at=ts(0.5)),
        started("b", "run b", at=ts(0.6)),
        # killed here; resumed later: a stands, b runs again
        {"at": ts(5), "type": "run_resumed"},
        started("b", "run b", at=ts(5.1)),
        entry("b", prompt="run b", response="B", launched_at=ts(5.1), completed_at=ts(5.5)),
        {"at": ts(5.6), "status": "completed", "type": "run_finished"},
    ]))
    order = [(e.type, getattr(e, "step_id", None) or getattr(e, "status", None))
             for e in replay.events]
    assert order == [
        ("run_started", None), ("step_started", "a"), ("step_completed", "a"),
        ("step_started", "b"), ("pipeline_error", "interrupted"), ("run_started", None),
        ("step_started", "b"), ("step_completed", "b"), ("pipeline_completed", None)]
    resumed = [e for e in replay.events if isinstance(e, ev.RunStarted)][1]
    assert (resumed.resumed, resumed.at, resumed.run_id) == (True, at(5), "run")
    view = view_of(replay.events)
    assert (view.state, view.resumed, view.started_at, view.finished_at, view.error) == (
        "completed", True, at(0), at(5.6), None)
    b = view.rows["b"]
    assert (b.status, b.attempts) == ("done", 2)
    assert b.history == ["attempt 1: interrupted", "attempt 2: done"]
    assert view.rows["a"].history == ["attempt 1: done"]


def test_a_failed_then_resumed_run_replays_its_first_end(tmp_path: Path) -> None:
    replay = RecordedRun.read(write(tmp_path, [
        {**RUN_STARTED, "at": ts(0)},
        started("a", "run a", at=ts(0.1)),
        {**error("a", "abort_pipeline", "overloaded"), "at": ts(0.4)},
        {"at": ts(0.5), "error": "overloaded", "error_type": "ail:runner/invocation-failed",
         "status": "failed", "type": "run_finished"},
        {"at": ts(3), "type": "run_resumed"},
        started("a", "run a", at=ts(3.1)),
        entry("a", prompt="run a", response="A", launched_at=ts(3.1), completed_at=ts(3.5)),
        {"at": ts(3.6), "status": "completed", "type": "run_finished"},
    ]))
    ends = [e for e in replay.events if isinstance(e, ev.PipelineError | ev.PipelineCompleted)]
    assert [(type(e).__name__, e.at) for e in ends] == [("PipelineError", at(0.5)),
                                                        ("PipelineCompleted", at(3.6))]
    first_end = ends[0]
    assert isinstance(first_end, ev.PipelineError)
    assert (first_end.status, first_end.error) == ("failed", "overloaded")
    row = view_of(replay.events).rows["a"]
    assert row.history == ["attempt 1: failed [ail:runner/invocation-failed] overloaded",
                           "attempt 2: done"]
