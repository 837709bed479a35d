"""A run served in this process, followed and steered by :class:`RemoteRun` viewers over
its control socket (decisions A3–A5): the same events as the run's own, from its first,
for every viewer; every control works as it does in-process."""

from __future__ import annotations

import os

import pytest
from event_recorder import Recorder
from orchestration_helpers import FINISH_WITHIN, QUICK, Served, keys, of_type
from waiting import wait_for

from ail_tui.engine import events as ev
from ail_tui.engine.run_types import RunStatus
from ail_tui.orchestration.remote_run import RemoteRun
from ail_tui.runners.permissions import PermissionDecision

SLOW_BRANCH = {"default": {"response": "ok", "delay": 0.02},
               "steps": {"slow": {"response": "a slow answer", "delay": 60, "chunks": 4}}}
"""``slow`` runs until it is cancelled (its first chunk comes after 15 s)."""
STREAMED = {"default": {"response": "ok", "delay": 0.02},
            "steps": {"slow": {"response": "streamed in many small pieces", "delay": 0.3,
                               "chunks": 10}}}


def ended(recorder: Recorder) -> ev.Event:
    return recorder.wait_for(lambda e: isinstance(e, ev.TERMINAL), FINISH_WITHIN)


def at_the_gate(serve) -> tuple[Served, RemoteRun, Recorder]:
    """The gate pipeline served and started, followed from its start by a viewer with a
    recorder; once its gate waits for an answer."""
    served: Served = serve("gate.ail.yaml", interactive=True)
    viewer, seen = served.watched()
    served.start()
    seen.wait_for(lambda e: isinstance(e, ev.HitlGateReached))
    return served, viewer, seen


def test_a_viewer_gets_every_event_of_the_run_as_it_happened(serve) -> None:
    served: Served = serve("branches.ail.yaml", STREAMED)
    viewer, seen = served.watched()
    served.start()
    result = viewer.wait(FINISH_WITHIN)
    assert result is not None and result.status == RunStatus.COMPLETED
    assert served.finished().status == RunStatus.COMPLETED
    own = served.recorder.events
    assert keys(seen.events) == keys(own)
    assert seen.events == own  # every field, not only type, step and time
    assert seen.events[0].type == "run_started" and seen.events[-1].type == "pipeline_completed"
    assert len(of_type(own, ev.RunnerEvent, "slow")) > 5, "the stream deltas went through"


def test_two_viewers_at_once_both_get_the_whole_stream(serve) -> None:
    served: Served = serve("branches.ail.yaml", STREAMED)
    first, second = served.viewer(), served.viewer()
    seen_first, seen_second = Recorder(), Recorder()
    first.subscribe(seen_first)
    second.subscribe(seen_second)
    assert served.server.viewers == 2
    served.start()
    for viewer in (first, second):
        result = viewer.wait(FINISH_WITHIN)
        assert result is not None and result.status == RunStatus.COMPLETED
    served.finished()
    assert keys(seen_first.events) == keys(served.recorder.events)
    assert keys(seen_second.events) == keys(served.recorder.events)


def test_a_late_viewer_gets_the_events_so_far_then_the_live_ones(serve) -> None:
    served: Served = serve("gate.ail.yaml", interactive=True)
    served.start()
    served.recorder.wait_for(lambda e: isinstance(e, ev.HitlGateReached))
    so_far = len(served.recorder.events)
    viewer, seen = served.watched()
    seen.wait_for(lambda e: isinstance(e, ev.HitlGateReached))
    assert keys(seen.events) == keys(served.recorder.events[:so_far])
    assert viewer.answer_gate("gate")
    ended(seen)
    assert served.finished().status == RunStatus.COMPLETED
    assert keys(seen.events) == keys(served.recorder.events)
    assert len(seen.events) > so_far


def test_a_second_sink_of_one_viewer_gets_everything_too(serve) -> None:
    served: Served = serve("sequence.ail.yaml")
    viewer, early, late = served.viewer(), Recorder(), Recorder()
    viewer.subscribe(early)
    served.start()
    early.wait_for(lambda e: isinstance(e, ev.StepCompleted) and e.step_id == "a")
    viewer.subscribe(late)
    ended(early)
    ended(late)
    assert keys(late.events) == keys(early.events) == keys(served.recorder.events)


def test_cancel_step_from_a_viewer_cancels_the_running_branch(serve) -> None:
    served: Served = serve("branches.ail.yaml", SLOW_BRANCH)
    viewer, seen = served.watched()
    served.start()
    seen.started("slow")
    assert viewer.cancel_step("slow", "too slow") is True
    cancelled = seen.wait_for(lambda e: isinstance(e, ev.StepCancelled))
    assert (cancelled.step_id, cancelled.cancelled_by, cancelled.reason) == (
        "slow", "user", "too slow")
    assert viewer.cancel_step("slow") is False  # no longer running
    assert viewer.cancel_step("no_such_step") is False
    result = viewer.wait(FINISH_WITHIN)
    assert result is not None and result.status == served.finished().status
    assert of_type(seen.events, ev.StepCompleted, "last"), "the run went on past the join"


def test_cancel_from_a_viewer_ends_the_run_cancelled(serve) -> None:
    served: Served = serve("branches.ail.yaml", SLOW_BRANCH)
    viewer, seen = served.watched()
    served.start()
    seen.started("slow")
    assert viewer.wait(0.05) is None  # still running
    viewer.cancel("enough")
    result = viewer.wait(FINISH_WITHIN)
    assert result is not None and result.status == RunStatus.CANCELLED
    assert served.finished().status == RunStatus.CANCELLED
    records = served.records()
    assert records[-1]["type"] == "run_finished" and records[-1]["status"] == "cancelled"


@pytest.mark.parametrize(("approved", "status"), [(True, RunStatus.COMPLETED),
                                                  (False, RunStatus.ABORTED)])
def test_a_gate_waits_for_a_viewers_answer(serve, approved: bool, status: RunStatus) -> None:
    served, viewer, seen = at_the_gate(serve)
    reached = seen.wait_for(lambda e: isinstance(e, ev.HitlGateReached))
    assert (reached.step_id, reached.message) == ("gate", "Go on?")
    snapshot = viewer.status()
    assert (snapshot["status"], snapshot["gates"], snapshot["permissions"]) == (
        "waiting", ["gate"], 0)
    assert viewer.answer_gate("first") is False  # no gate waits there
    assert viewer.answer_gate("gate", approved) is True
    seen.wait_for(lambda e: isinstance(e, ev.StepCompleted | ev.StepFailed)
                  and e.step_id == "gate")
    assert viewer.answer_gate("gate") is False  # answered already
    result = viewer.wait(FINISH_WITHIN)
    assert result is not None and result.status == status
    assert served.finished().status == status
    assert bool(of_type(seen.events, ev.StepStarted, "last")) is approved


def test_pause_and_resume_from_a_viewer(serve) -> None:
    served: Served = serve("sequence.ail.yaml", {"default": {"response": "ok", "delay": 0.02},
                                                 "steps": {"a": {"delay": 0.3}}})
    viewer, seen = served.watched()
    served.start()
    seen.started("a")
    viewer.pause()
    seen.wait_for(lambda e: isinstance(e, ev.RunPaused))
    assert viewer.paused and served.run.paused
    assert viewer.status()["status"] == "paused"
    seen.wait_for(lambda e: isinstance(e, ev.StepCompleted) and e.step_id == "a")
    assert not of_type(seen.events, ev.StepStarted, "b")
    viewer.resume()
    result = viewer.wait(FINISH_WITHIN)
    assert result is not None and result.status == RunStatus.COMPLETED
    assert not viewer.paused
    types = [e.type for e in seen.events]
    assert types.count("run_paused") == 1 and types.count("run_resumed") == 1
    started_b = next(i for i, e in enumerate(seen.events)
                     if isinstance(e, ev.StepStarted) and e.step_id == "b")
    assert types.index("run_resumed") < started_b, "no step starts while the run is paused"


def test_status_counts_the_steps_by_state(serve) -> None:
    served: Served = serve("branches.ail.yaml", SLOW_BRANCH)
    viewer, seen = served.watched()
    served.start()
    seen.started("slow")
    seen.wait_for(lambda e: isinstance(e, ev.StepCompleted) and e.step_id == "quick")
    assert viewer.status() == {"status": "running", "steps": {"done": 2, "running": 1},
                               "gates": [], "permissions": 0}
    viewer.cancel_step("slow")
    ended(seen)
    assert viewer.status() == {"status": "completed",
                               "steps": {"done": 4, "cancelled": 1},
                               "gates": [], "permissions": 0}


@pytest.mark.parametrize(("script", "status", "error_type"), [
    (QUICK, RunStatus.COMPLETED, None),
    ({"default": {"response": "ok"}, "steps": {"b": {"error": "Runner exited with code 1"}}},
     RunStatus.FAILED, "ail:runner/invocation-failed"),
], ids=["completed", "failed"])
def test_wait_gives_how_the_run_ended(serve, script: dict, status: RunStatus,
                                      error_type: str | None) -> None:
    served: Served = serve("sequence.ail.yaml", script)
    viewer = served.viewer()
    viewer.subscribe(lambda event: None)
    served.start()
    result = viewer.wait(FINISH_WITHIN)
    own = served.finished()
    assert result is not None
    assert (result.run_id, result.status, result.error_type) == (own.run_id, status,
                                                                 own.error_type)
    assert result.error_type == error_type
    assert viewer.lost is None


def test_hello_tells_which_run_it_is(serve) -> None:
    served: Served = serve("sequence.ail.yaml")
    viewer = served.viewer()
    assert viewer.run_id == served.run.run_id
    assert viewer.pid == os.getpid()
    assert viewer.pipeline_source is not None
    assert viewer.pipeline_source.endswith("sequence.ail.yaml")


def test_release_is_heard_and_changes_nothing_else(serve) -> None:
    served: Served = serve("sequence.ail.yaml")
    viewer = served.viewer()
    assert not served.server.released.is_set()
    assert viewer.release() is True
    assert served.server.released.is_set()
    served.start()
    assert served.finished().status == RunStatus.COMPLETED


def test_a_viewer_that_leaves_leaves_the_run_running(serve) -> None:
    served, leaving, _ = at_the_gate(serve)
    leaving.close()
    wait_for(lambda: served.server.viewers == 0, 5, "the server to forget the viewer")
    assert served.run.wait(0) is None
    other = served.viewer()
    assert other.answer_gate("gate")
    assert served.finished().status == RunStatus.COMPLETED


def test_a_viewer_whose_run_stops_serving_is_told(serve) -> None:
    served, viewer, _ = at_the_gate(serve)
    served.server.close(within=1.0)
    result = viewer.wait(5)
    assert result is not None
    assert (result.status, result.error_type) == (RunStatus.FAILED, "ail:control/lost")
    assert viewer.lost
    assert viewer.answer_gate("gate") is False  # the controls fail softly once lost
    assert served.run.wait(0) is None  # the run itself is untouched


def test_answer_permission_of_no_waiting_request_is_false(serve) -> None:
    served: Served = serve("gate.ail.yaml", interactive=True)
    viewer = served.viewer()
    served.start()
    served.recorder.wait_for(lambda e: isinstance(e, ev.HitlGateReached))
    assert viewer.answer_permission("no-such-request", PermissionDecision(True)) is False
    assert viewer.answer_permission("no-such-request",
                                    PermissionDecision(False, reason="no")) is False
    assert viewer.answer_gate("gate")
    assert served.finished().status == RunStatus.COMPLETED


def test_the_first_answer_to_a_gate_wins(serve) -> None:
    """Two viewers answer the same gate at once (here: two requests in one write): the
    first answer decides, the second is told no gate waits any more."""
    served: Served = serve("gate.ail.yaml", interactive=True)
    served.start()
    served.recorder.wait_for(lambda e: isinstance(e, ev.HitlGateReached))
    raw = served.raw()
    raw.send(b'{"id":1,"op":"answer_gate","step_id":"gate","approved":false}\n'
             b'{"id":2,"op":"answer_gate","step_id":"gate","approved":true}\n')
    replies = {reply["reply"]: reply for reply in (raw.reply(), raw.reply())}
    assert replies[1] == {"reply": 1, "ok": True, "value": True}
    assert replies[2] == {"reply": 2, "ok": True, "value": False}, "the gate was answered"
    assert served.finished().status == RunStatus.ABORTED


def test_a_viewer_decides_a_tool_use_and_the_runner_gets_the_decision(serve) -> None:
    served: Served = serve("sequence.ail.yaml", interactive=True,
                           script={"steps": {"b": {"asks": ["Edit", "Bash"]}}})
    viewer = served.viewer()
    served.start()
    for tool, decision in (("Edit", PermissionDecision(True, for_step=True)),
                           ("Bash", PermissionDecision(False, reason="no shell"))):
        asked = served.recorder.wait_for(
            lambda e, tool=tool: isinstance(e, ev.PermissionRequested) and e.tool_name == tool)
        assert isinstance(asked, ev.PermissionRequested) and asked.step_id == "b"
        assert viewer.answer_permission(asked.request_id, decision)
    assert served.finished().status == RunStatus.COMPLETED
    results = [(e.event["content"], e.event.get("is_error", False))
               for e in served.recorder.events
               if isinstance(e, ev.RunnerEvent) and e.event["type"] == "tool_result"]
    assert results == [("done", False), ("no shell", True)]
    answered = [e.decision for e in served.recorder.events
                if isinstance(e, ev.PermissionAnswered)]
    assert answered == ["step", "deny"]
