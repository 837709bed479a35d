"""Async branches: DAG scheduling, the concurrency cap, joins, fail_fast, cancellation."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from engine_helpers import make_executor, read_records, start_run
from processes import alive

from ail_tui.engine import events as ev
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.turnlog.timestamps import parse_timestamp


def test_string_join_bytes_and_group_stamps(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: lint
            async: true
            prompt: lint
          - id: test
            async: true
            prompt: test
          - id: checks
            action: join
            depends_on: [lint, test]
          - id: ship
            prompt: "{{ step.checks.response }}"
        """, script={"steps": {"lint": {"response": "No issues found.", "delay": 0.05},
                               "test": {"response": "All 42 tests passed."}}})
    assert run.result.status == "completed"
    entries = run.entries()
    expected = "[lint]:\nNo issues found.\n\n[test]:\nAll 42 tests passed.\n"
    assert entries["checks"]["response"] == expected
    assert entries["checks"]["prompt"] == "join:[lint,test]"
    assert entries["ship"]["prompt"] == expected
    group = entries["lint"]["concurrent_group"]
    assert re.fullmatch(r"cg-[0-9a-f]{8}", group)
    assert entries["test"]["concurrent_group"] == group
    assert "concurrent_group" not in entries["checks"]
    for step in ("lint", "test"):
        times = [parse_timestamp(entries[step][k]) for k in
                 ("launched_at", "started_at", "completed_at")]
        assert times == sorted(times)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entries[step]["launched_at"])
    assert parse_timestamp(entries["checks"]["completed_at"]) >= parse_timestamp(
        entries["lint"]["completed_at"])
    queued = run.of(ev.StepQueued)
    assert [q.step_id for q in queued] == ["lint", "test"]
    assert all(q.concurrent_group == group for q in queued)


def test_one_group_per_launch_point(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: a
            async: true
            prompt: a
          - id: b
            async: true
            prompt: b
          - id: mid
            prompt: mid
          - id: c
            async: true
            prompt: c
          - id: done
            action: join
            depends_on: [a, b, c]
        """)
    entries = run.entries()
    assert entries["a"]["concurrent_group"] == entries["b"]["concurrent_group"]
    assert entries["c"]["concurrent_group"] != entries["a"]["concurrent_group"]


def test_structured_join_and_paths(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: lint
            async: true
            prompt: lint
            output_schema: {type: object}
          - id: test
            async: true
            prompt: test
            output_schema: {type: object}
          - id: checks
            action: join
            depends_on: [lint, test]
            output_schema: {type: object, required: [lint, test]}
          - id: after
            prompt: "{{ step.checks.lint.clean }} {{ step.checks.test.passed }}"
        """, script={"steps": {"lint": {"response": '{"issues": [], "clean": true}'},
                               "test": {"response": '{"passed": 42, "clean": true, "failed": 0}'}}})
    entries = run.entries()
    assert entries["checks"]["response"] == (
        '{"lint":{"clean":true,"issues":[]},"test":{"clean":true,"failed":0,"passed":42}}')
    assert entries["after"]["prompt"] == "true 42"


def test_wait_for_all_reports_failures(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: a
            async: true
            prompt: a
          - id: b
            async: true
            prompt: b
          - id: j
            action: join
            depends_on: [a, b]
            on_error: wait_for_all
        """, script={"steps": {"b": {"error": "exploded", "delay": 0.05}}})
    assert run.result.status == "completed"
    assert run.entries()["j"]["response"] == "[a]:\nstub response\n\n[b]:\n<error: exploded>\n"


def test_dag_start_does_not_wait_for_unrelated_branches(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: slow
            async: true
            prompt: slow
          - id: fast
            async: true
            prompt: fast
          - id: after_fast
            async: true
            depends_on: [fast]
            prompt: "after {{ step.fast.response }}"
          - id: all
            action: join
            depends_on: [slow, fast, after_fast]
        """, script={"steps": {"slow": {"delay": 0.6}, "fast": {"delay": 0.05},
                               "after_fast": {"delay": 0.05}}})
    entries = run.entries()
    started = parse_timestamp(entries["after_fast"]["started_at"])
    assert started >= parse_timestamp(entries["fast"]["completed_at"])
    assert started < parse_timestamp(entries["slow"]["completed_at"])
    assert entries["after_fast"]["prompt"] == "after stub response"


def test_concurrency_cap_is_never_exceeded(run_pipeline) -> None:
    branches = "\n".join(
        f"  - id: b{i}\n    async: true\n    prompt: p{i}" for i in range(12))
    deps = ", ".join(f"b{i}" for i in range(12))
    run = run_pipeline(
        'version: "1"\ndefaults: {max_concurrency: 3}\npipeline:\n' + branches
        + f"\n  - id: j\n    action: join\n    depends_on: [{deps}]\n",
        script={"default": {"delay": 0.03}})
    intervals = []
    for i in range(12):
        entry = run.entries()[f"b{i}"]
        intervals.append((parse_timestamp(entry["started_at"]),
                          parse_timestamp(entry["completed_at"])))
    moments = sorted({t for pair in intervals for t in pair})
    peak = max(sum(1 for s, e in intervals if s <= m < e) for m in moments)
    assert peak == 3


def test_fail_fast_kills_running_branches_and_their_processes(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    events: list[ev.Event] = []
    executor = make_executor(tmp_path, f"""
        version: "1"
        pipeline:
          - id: bad
            async: true
            prompt: bad
          - id: sleeper
            async: true
            context:
              shell: "sleep 30 & echo $! >> {pids}; echo $$ >> {pids}; wait"
          - id: queued
            async: true
            depends_on: [sleeper]
            prompt: never
          - id: j
            action: join
            depends_on: [bad, sleeper, queued]
        """, script={"steps": {"bad": {"delay": 0.5, "error": "boom"}}}, sink=events.append)
    started = time.monotonic()
    result = executor.run()
    elapsed = time.monotonic() - started
    assert result.status == "aborted"
    assert result.error == "Join dependency 'bad' failed (fail_fast): boom"
    assert elapsed < 1.5
    cancelled = {e.step_id: e for e in events if isinstance(e, ev.StepCancelled)}
    assert cancelled["sleeper"].cancelled_by == "bad"  # P3: the step whose failure caused it
    assert cancelled["queued"].cancelled_by == "bad"
    assert not any(isinstance(e, ev.StepStarted) and e.step_id == "queued" for e in events)
    time.sleep(0.2)
    for pid in pids.read_text().split():
        assert not alive(int(pid)), f"process {pid} survived"
    records = read_records(result.log_path)
    assert {r["step_id"] for r in records if r.get("type") == "step_cancelled"} == {
        "sleeper", "queued"}
    assert records[-1]["type"] == "run_finished" and records[-1]["status"] == "aborted"


def test_user_cancels_one_branch_and_the_join_sees_it(tmp_path: Path) -> None:
    run, seen = start_run(tmp_path, """
        version: "1"
        pipeline:
          - id: long
            async: true
            context: {shell: "sleep 30"}
          - id: child
            async: true
            depends_on: [long]
            prompt: never
          - id: other
            async: true
            prompt: other
          - id: j
            action: join
            depends_on: [long, child, other]
            on_error: wait_for_all
        """)
    seen.started("long")
    assert run.cancel_step("long")
    result = run.wait(5)
    assert result is not None and result.status == "completed"
    records = read_records(result.log_path)
    cancelled = {r["step_id"]: r for r in records if r.get("type") == "step_cancelled"}
    assert cancelled["long"]["cancelled_by"] == "user"
    assert cancelled["child"]["cancelled_by"] == "user"  # whoever ended its dependency
    join = next(r for r in records if r.get("step_id") == "j" and "type" not in r)
    assert "[long]:\n<error: cancelled by user: cancelled by user>" in join["response"]


def test_condition_skipped_async_unblocks_dependents(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: maybe
            async: true
            condition: never
            prompt: x
          - id: then_this
            async: true
            depends_on: [maybe]
            prompt: y
          - id: j
            action: join
            depends_on: [maybe, then_this]
        """)
    assert run.result.status == "completed"
    assert run.entries()["j"]["response"] == "[maybe]:\n<missing>\n\n[then_this]:\nstub response\n"


def test_async_on_result_abort_cancels_everything(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: quick
            async: true
            prompt: q
            on_result:
              - contains: stub
                action: abort_pipeline
          - id: slow
            async: true
            context: {shell: "sleep 20"}
          - id: j
            action: join
            depends_on: [quick, slow]
            on_error: wait_for_all
        """, script={"steps": {"quick": {"delay": 0.2}}})
    assert run.result.status == "aborted"
    assert run.result.error == "Step 'quick' on_result fired abort_pipeline"
    assert any(e.step_id == "slow" for e in run.of(ev.StepCancelled))


def test_cancel_run_stops_everything(tmp_path: Path) -> None:
    run, seen = start_run(tmp_path, """
        version: "1"
        pipeline:
          - id: a
            async: true
            context: {shell: "sleep 30"}
          - id: b
            async: true
            prompt: b
          - id: j
            action: join
            depends_on: [a, b]
        """, script={"steps": {"b": {"delay": 30}}})
    seen.started("a")
    seen.started("b")
    started = time.monotonic()
    run.cancel()
    result = run.wait(5)
    assert time.monotonic() - started < 1.5
    assert result is not None and result.status == "cancelled"
    records = read_records(result.log_path)
    assert {r["step_id"] for r in records if r.get("type") == "step_cancelled"} == {"a", "b"}
    assert records[-1]["status"] == "cancelled"


def test_pause_holds_new_steps(tmp_path: Path) -> None:
    run, seen = start_run(tmp_path, """
        version: "1"
        pipeline:
          - id: a
            prompt: a
          - id: b
            prompt: b
        """, script={"steps": {"a": {"delay": 0.3}}})
    seen.started("a")
    run.pause()
    seen.wait_for(lambda e: isinstance(e, ev.StepCompleted) and e.step_id == "a")
    with pytest.raises(AssertionError, match="timed out"):  # nothing starts while paused
        seen.started("b", timeout=0.5)
    run.resume()
    result = run.wait(5)
    assert result is not None and result.status == "completed"
    kinds = [type(e).__name__ for e in seen.events]
    assert kinds.index("RunPaused") < kinds.index("RunResumed")
    assert seen.events.index(seen.started("b")) > kinds.index("RunResumed")


def test_gates_answered_by_a_front_end(tmp_path: Path) -> None:
    run, seen = start_run(tmp_path, """
        version: "1"
        pipeline:
          - id: draft
            prompt: draft
          - id: edit
            action: modify_output
            message: "Edit the draft"
          - id: approve
            action: pause_for_human
            message: "Ship it?"
        """, interactive=True)
    seen.wait_for(lambda e: isinstance(e, ev.HitlModifyReached))
    assert run.answer_gate("edit", True, "edited text")
    seen.wait_for(lambda e: isinstance(e, ev.HitlGateReached))
    assert run.answer_gate("approve", False)
    result = run.wait(10)
    assert result is not None and result.status == "aborted"
    records = read_records(result.log_path)
    edit = next(r for r in records if r.get("step_id") == "edit")
    assert edit["modified"] == "edited text" and edit["prompt"] == "Edit the draft"
    assert "rejected" in (result.error or "")


def test_error_type_of_cancelled_sequential_step(tmp_path: Path) -> None:
    run, seen = start_run(tmp_path, """
        version: "1"
        pipeline:
          - id: long
            context: {shell: "sleep 30"}
        """)
    seen.started("long")
    assert run.cancel_step("long")
    result = run.wait(5)
    assert result is not None
    assert result.status == "cancelled"
    assert result.error_type == ErrorType.RUNNER_CANCELLED
