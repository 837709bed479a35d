"""fail_fast cancellations name their cause, and never let a queued branch start (P3)."""

from __future__ import annotations

from ail_tui.engine import events as ev


def test_a_queued_branch_never_starts_once_a_fail_fast_dependency_failed(run_pipeline) -> None:
    """With one slot, the slot freed by the failing branch is not handed to the next one."""
    run = run_pipeline("""
        version: "1"
        defaults: {max_concurrency: 1}
        pipeline:
          - id: bad
            async: true
            prompt: bad
          - id: later
            async: true
            prompt: later
          - id: j
            action: join
            depends_on: [bad, later]
        """, script={"steps": {"bad": {"delay": 0.2, "error": "boom"}}})
    assert run.result.status == "aborted"
    assert not any(e.step_id == "later" for e in run.of(ev.StepStarted))
    cancelled = {r["step_id"]: r for r in run.typed("step_cancelled")}
    assert cancelled["later"]["cancelled_by"] == "bad"
    assert "later" not in run.entries()
