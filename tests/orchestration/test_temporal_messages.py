"""What a Temporal run's messages look like on the wire: the converter reads back what it
wrote, nested messages included, and a body carries only its own step's stub script."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ail_tui.orchestration.temporal import messages as m
from ail_tui.orchestration.temporal.converter import DATA_CONVERTER
from ail_tui.runners.stub import StubRunner, StubScript

pytestmark = pytest.mark.timeout(30)

REQUEST = m.BodyRequest(ref="a1-3", step_id="review::lint", kind="shell", command="make lint",
                      cwd="/src", timeout=30.0, env={"A": "b"}, reconcile="cat done")


def through(value: Any, hint: type) -> Any:
    """``value`` written and read back as ``hint``, as a worker or client does."""
    converter = DATA_CONVERTER.payload_converter
    (payload,) = converter.to_payloads([value])
    (read,) = converter.from_payloads([payload], [hint])
    return read


@pytest.mark.parametrize("message", [
    m.RunStart(run_id="r", pipeline_source="/p.ail.yaml", pipeline_text="version: '0.1'",
             cwd="/src", stub_script="{}", interactive=True),
    REQUEST,
    m.BodyOutcome(result={"stdout": "ok\n", "exit_code": 0}, items=[{"stream": "stdout",
                                                                 "text": "ok"}],
                reconciled=True, delivered=True),
    m.BodyChunks(workflow_ref="body-a1-3", items=[{"type": "stream_delta", "text": "hé"}]),
    m.Published(events=['{"type":"step_started"}'], records=[["r.jsonl", {"type": "x"}]],
              bodies=[REQUEST, m.BodyRequest(ref="a1-4", step_id="s", kind="prompt")]),
    m.Control(action="gate", step_id="approve", approved=False, text="no"),
    m.Progress(events=["{}"], records=[], event_count=1, record_count=0,
             ended={"status": "completed"}, paused=True),
])
def test_a_message_reads_back_as_it_was_written(message: Any) -> None:
    assert through(message, type(message)) == message


def test_a_list_of_notes_reads_back_with_its_payloads_as_plain_data() -> None:
    notes = [m.DriverNote(seq=1, kind="outcome", ref="a1-1", payload=m.BodyOutcome(error="x")),
             m.DriverNote(seq=2, kind="control", payload=m.Control(action="pause"))]
    read = through(notes, list[m.DriverNote])
    assert [type(note) for note in read] == [m.DriverNote, m.DriverNote]
    assert m.BodyOutcome(**read[0].payload) == m.BodyOutcome(error="x")
    assert m.Control(**read[1].payload) == m.Control(action="pause")


def test_a_message_is_written_as_the_json_of_its_fields() -> None:
    (payload,) = DATA_CONVERTER.payload_converter.to_payloads([m.Published(bodies=[REQUEST])])
    written = json.loads(payload.data)
    assert written["bodies"][0]["command"] == "make lint"
    assert written["events"] == [] and written["records"] == []


def test_a_step_gets_the_part_of_the_stub_script_that_answers_it() -> None:
    script = StubScript.model_validate({
        "default": {"delay": 0.25},
        "steps": {"lint": {"response": "clean"}, "review::lint": {"chunks": 3},
                  "other": {"response": "not this"}}})
    part = script.for_step("review::lint")
    assert sorted(part.steps) == ["lint", "review::lint"]
    assert part.default == script.default
    for step in ("review::lint", "lint"):
        assert StubRunner(script=part).plan_for(step) == StubRunner(script=script).plan_for(step)
