"""Events on the wire (decisions A3): every announced event comes back equal, exactly
timed, and anything else is one clear BadEvent."""

from __future__ import annotations

import contextlib
import json
from dataclasses import fields
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ail_tui.credentials import SecretSet
from ail_tui.engine import events as ev
from ail_tui.engine.event_codec import (
    EVENT_TYPES,
    MAX_EVENT_BYTES,
    BadEvent,
    decode_event,
    encode_event,
)

AT = 1796099774.123456

SAMPLES: list[ev.Event] = [
    ev.RunStarted(at=AT, pipeline_source="/p/.ail.yaml", run_id="r-1", total_steps=3,
                  log_path="/p/.ail/runs/r-1.jsonl", resumed=True, pipeline_hash="h"),
    ev.StepQueued(at=AT, step_id="b", concurrent_group="g", depends_on=["a", "c"]),
    ev.StepStarted(at=AT, step_id="s", step_index=2, total_steps=5, resolved_prompt="do it",
                   concurrent_group="g", attempt=2, recorded_prompt="do it",
                   launched_at=AT - 1, iteration=(1, 2), child_run="r-2"),
    ev.StepOutput(at=AT, step_id="s", stream="stderr", text="warning: x"),
    ev.RunnerEvent(at=AT, step_id="s", event={"type": "tool_use", "input": {"n": [1, 2.5]},
                                              "ok": True, "none": None}),
    ev.StepCompleted(at=AT, step_id="s", cost_usd=0.0123, input_tokens=10, output_tokens=20,
                     response="done", model="m", concurrent_group="g", exit_code=0,
                     reused_from="r-0", reconciled=True, gate_passed=(1,)),
    ev.StepSkipped(at=AT, step_id="s", reason="disabled"),
    ev.StepFailed(at=AT, step_id="s", error="boom", error_type="ail:runner/failed"),
    ev.StepErrorContinued(at=AT, step_id="s", error="boom", error_type="ail:x"),
    ev.StepRetrying(at=AT, step_id="s", error="boom", attempt=1, max_retries=3,
                    error_type="ail:x"),
    ev.StepCancelled(at=AT, step_id="s", cancelled_by="user", reason="stop",
                     concurrent_group="g", launched_at=AT - 2),
    ev.HitlGateReached(at=AT, step_id="gate", message="ok?"),
    ev.HitlModifyReached(at=AT, step_id="gate", message="edit", last_response="text"),
    ev.PermissionRequested(at=AT, step_id="s", request_id="q-1", tool_name="Bash",
                           tool_input={"command": "ls", "args": ["-l"]}, tool_use_id="t-1"),
    ev.PermissionAnswered(at=AT, step_id="s", request_id="q-1", tool_name="Bash",
                          decision="deny", reason="no"),
    ev.RunPaused(at=AT),
    ev.RunResumed(at=AT),
    ev.Warning_(at=AT, message="careful", step_id="s"),
    ev.PipelineCompleted(at=AT, outcome="break", step_id="s"),
    ev.PipelineError(at=AT, error="cancelled", error_type="ail:runner/cancelled",
                     status="cancelled"),
]


def _public(event: ev.Event) -> ev.Event:
    """What a viewer can know of ``event``: its announced form (record-only fields gone)."""
    return ev.announced(event, SecretSet())


def test_every_announced_event_type_has_a_sample() -> None:
    assert {type(e) for e in SAMPLES} == set(EVENT_TYPES.values())
    assert sorted(EVENT_TYPES) == sorted(e.type for e in SAMPLES)


def test_the_registry_leaves_out_journal_only_events() -> None:
    assert "step_aborted" not in EVENT_TYPES and "step_definitions" not in EVENT_TYPES
    assert all(not cls.journal_only for cls in EVENT_TYPES.values())


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_round_trip(event: ev.Event) -> None:
    line = encode_event(event)
    back = decode_event(line)
    assert type(back) is type(event)
    assert back == _public(event)
    assert decode_event(line.decode("utf-8")) == back  # a str line as well
    assert decode_event(line.rstrip(b"\n")) == back  # the newline is optional


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_line_is_to_json_with_exact_at(event: ev.Event) -> None:
    line = encode_event(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    data = json.loads(line)
    assert data == {**event.to_json(), "at": event.at}
    assert line == (json.dumps(data, sort_keys=True, separators=(",", ":"),  # compact
                               ensure_ascii=False) + "\n").encode("utf-8")


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_types_are_restored(event: ev.Event) -> None:
    back = decode_event(encode_event(event))
    for item in fields(back):
        assert type(getattr(back, item.name)) is type(getattr(_public(event), item.name)), \
            item.name


def test_example_line() -> None:
    event = ev.StepOutput(at=AT, step_id="review", stream="stdout", text="ok")
    assert encode_event(event) == (b'{"at":1796099774.123456,"step_id":"review",'
                                   b'"stream":"stdout","text":"ok","type":"step_output"}\n')


@pytest.mark.parametrize("at", [AT, 0.1, 1e-7, 1796099774.0, 1796099774.9999999,
                                4102444799.999999, 1796099774.1234567891])
def test_at_is_exact(at: float) -> None:
    back = decode_event(encode_event(ev.RunPaused(at=at)))
    assert back.at == at and type(back.at) is float


def test_integer_at_becomes_float() -> None:
    back = decode_event(b'{"type":"run_paused","at":17}')
    assert back.at == 17.0 and type(back.at) is float


def test_record_only_fields_stay_off_the_wire() -> None:
    started = SAMPLES[2]
    data = json.loads(encode_event(started))
    assert not {"iteration", "recorded_prompt", "launched_at", "child_run"} & set(data)
    back = decode_event(encode_event(started))
    assert isinstance(back, ev.StepStarted) and back.iteration == () and back.child_run is None


def test_fields_omitted_when_none_come_back_as_none() -> None:
    event = ev.StepCompleted(at=AT, step_id="s", response=None)
    data = json.loads(encode_event(event))
    assert not {"model", "concurrent_group", "exit_code", "reused_from", "reconciled"} & set(data)
    assert data["response"] is None and data["cost_usd"] is None  # not omitted: null
    assert decode_event(encode_event(event)) == event
    for other in (ev.RunStarted(at=AT, pipeline_source=None, run_id="r", total_steps=0),
                  ev.HitlModifyReached(at=AT, step_id="g"), ev.Warning_(at=AT, message="m"),
                  ev.PermissionRequested(at=AT, step_id="s", request_id="q", tool_name="T"),
                  ev.PipelineCompleted(at=AT, outcome="completed")):
        assert decode_event(encode_event(other)) == other


@pytest.mark.parametrize("text", [
    "héllo wörld — ✓ 日本語 🎉", "\x00\x1f\"\\\n\r\t", "\u2028\u2029", "\udcff lone surrogate",
    "", " " * 5,
])
def test_unicode_text(text: str) -> None:
    event = ev.StepOutput(at=AT, step_id="ステップ", stream="stdout", text=text)
    line = encode_event(event)
    line.decode("utf-8")  # always valid UTF-8
    assert line.count(b"\n") == 1
    assert decode_event(line) == event


@settings(max_examples=50, deadline=None)
@given(text=st.text(), at=st.floats(min_value=0, max_value=4e9))
def test_any_text_round_trips(text: str, at: float) -> None:
    event = ev.StepOutput(at=at, step_id="s", stream="stdout", text=text)
    assert decode_event(encode_event(event)) == event


def test_large_text() -> None:
    text = "x" * (4 * 1024 * 1024) + "✓"
    event = ev.StepCompleted(at=AT, step_id="s", response=text)
    assert decode_event(encode_event(event)) == event


def test_an_event_too_long_is_not_encoded() -> None:
    with pytest.raises(ValueError, match="limit"):
        encode_event(ev.StepOutput(at=AT, step_id="s", stream="stdout",
                                   text="x" * MAX_EVENT_BYTES))


def test_journal_only_and_unencodable_events_are_refused() -> None:
    with pytest.raises(ValueError, match="journal-only"):
        encode_event(ev.StepAborted(step_id="s", error="e", error_type="t"))
    with pytest.raises(ValueError, match="JSON"):
        encode_event(ev.RunnerEvent(step_id="s", event={"x": object()}))
    with pytest.raises(ValueError, match="JSON"):
        encode_event(ev.StepCompleted(step_id="s", cost_usd=float("nan")))
    for at in (2.0 ** 53, 1e300, float("inf")):  # no date: to_json cannot write it
        with pytest.raises(ValueError, match="cannot be sent"):
            encode_event(ev.RunPaused(at=at))


def _line(**changes: Any) -> bytes:
    data = json.loads(encode_event(SAMPLES[2]))  # step_started
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not _DROP}).encode()


_DROP = object()

BAD_LINES: dict[str, bytes | str] = {
    "garbage": b"\x00not json at all",
    "empty": b"",
    "not utf-8": b'{"type":"run_paused","at":1,"x":"\xff"}',
    "two objects": b'{"type":"run_paused","at":1}{"type":"run_paused","at":1}',
    "list": b"[]",
    "string": b'"run_paused"',
    "number": b"17",
    "null": b"null",
    "empty object": b"{}",
    "type not a string": b'{"type":7,"at":1}',
    "unknown type": b'{"type":"step_exploded","at":1}',
    "base type": b'{"type":"event","at":1}',
    "journal-only type": b'{"type":"step_aborted","at":1,"step_id":"s","error":"e",'
                         b'"error_type":"t"}',
    "NaN": b'{"type":"run_paused","at":NaN}',
    "infinite at": b'{"type":"run_paused","at":1e999}',
    "huge integer at": b'{"type":"run_paused","at":' + b"9" * 400 + b"}",
    "deep nesting": b'{"type":"run_paused","at":1,"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "missing at": _line(at=_DROP),
    "missing step_id": _line(step_id=_DROP),
    "at a string": _line(at="2026-01-01T00:00:00.000Z"),
    "at a boolean": _line(at=True),
    "int field a string": _line(step_index="2"),
    "int field a float": _line(step_index=2.5),
    "int field a boolean": _line(attempt=True),
    "str field a number": _line(step_id=7),
    "optional str field a list": _line(resolved_prompt=["a"]),
    "list of str with a number": b'{"type":"step_queued","at":1,"step_id":"b",'
                                 b'"concurrent_group":"g","depends_on":["a",1]}',
    "list field an object": b'{"type":"step_queued","at":1,"step_id":"b",'
                            b'"concurrent_group":"g","depends_on":{}}',
    "dict field a list": b'{"type":"runner_event","at":1,"step_id":"s","event":[]}',
    "bool field a string": b'{"type":"run_started","at":1,"pipeline_source":null,'
                           b'"run_id":"r","total_steps":1,"resumed":"yes"}',
    "too long": b'{"type":"run_paused","at":1,"x":"' + b"x" * MAX_EVENT_BYTES + b'"}',
    "too long str": '{"type":"run_paused","at":1,"x":"' + "✓" * (MAX_EVENT_BYTES // 3) + '"}',
}


@pytest.mark.parametrize("line", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_bad_lines_raise_bad_event(line: bytes | str) -> None:
    with pytest.raises(BadEvent) as caught:
        decode_event(line)
    assert type(caught.value) is BadEvent and str(caught.value)


def test_bad_event_is_a_value_error_with_a_clear_message() -> None:
    assert issubclass(BadEvent, ValueError)
    with pytest.raises(BadEvent, match="unknown event type 'step_exploded'"):
        decode_event(BAD_LINES["unknown type"])
    with pytest.raises(BadEvent, match="step_started event has no 'step_id'"):
        decode_event(BAD_LINES["missing step_id"])
    with pytest.raises(BadEvent, match="'step_index' is not an integer"):
        decode_event(BAD_LINES["int field a string"])
    with pytest.raises(BadEvent, match="not an object"):
        decode_event(b"[]")


def test_unknown_keys_are_ignored() -> None:
    """A newer run may send fields this viewer does not know yet."""
    back = decode_event(b'{"type":"run_paused","at":1.5,"new_field":[1]}')
    assert back == ev.RunPaused(at=1.5)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                     | st.text(), lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(), inner, max_size=3), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from([*sorted(EVENT_TYPES), "x"]),
       values=st.dictionaries(st.sampled_from(["at", "step_id", "step_index", "depends_on",
                                               "event", "tool_input", "resumed", "cost_usd",
                                               "message", "total_steps", "run_id"]), _JSON),
       raw=st.binary(max_size=40))
def test_any_input_is_an_event_or_bad_event(kind: str, values: dict[str, Any],
                                            raw: bytes) -> None:
    with contextlib.suppress(BadEvent):
        assert isinstance(decode_event(json.dumps({**values, "type": kind})), EVENT_TYPES[kind])
    with contextlib.suppress(BadEvent):
        assert isinstance(decode_event(raw), ev.Event)
