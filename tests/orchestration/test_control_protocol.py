"""The control channel's request lines (decisions A7): every malformed, unknown or
oversized request is refused with a message (and its id when it could be read); every
good request of every operation is read back as sent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ail_tui.orchestration.control_protocol import (
    MAX_REQUEST_BYTES,
    OPS,
    BadRequest,
    Request,
    decode_request,
    encode_request,
    error_reply,
    reply,
)


def line(data: Any) -> bytes:
    return (json.dumps(data) + "\n").encode("utf-8")


def padded(size: int) -> bytes:
    """A ``cancel`` request line of exactly ``size`` bytes (newline included)."""
    empty = line({"id": 1, "op": "cancel", "reason": ""})
    return line({"id": 1, "op": "cancel", "reason": "x" * (size - len(empty))})


BAD: list[tuple[str, bytes, str, int | None]] = [
    # name, line, what the message says, the id the error reply carries
    ("malformed JSON", b'{"id": 1, "op": \n', "not JSON", None),
    ("empty object text", b"\n", "not JSON", None),
    ("non-UTF-8", b'{"id": 1, "op": "hello\xff"}\n', "not JSON", None),
    ("deeply nested", b"[" * 60_000 + b"\n", "not JSON", None),
    ("a list", line([1, 2]), "not a JSON object", None),
    ("a string", line("hello"), "not a JSON object", None),
    ("null", line(None), "not a JSON object", None),
    ("id not an integer", line({"id": "7", "op": "hello"}), "'id' is not an integer", None),
    ("id a boolean", line({"id": True, "op": "hello"}), "'id' is not an integer", None),
    ("id a float", line({"id": 7.0, "op": "hello"}), "'id' is not an integer", None),
    ("no op", line({"id": 3}), "unknown request None", 3),
    ("op not a string", line({"id": 3, "op": 5}), "unknown request 5", 3),
    ("unknown op", line({"id": 4, "op": "explode"}), "unknown request 'explode'", 4),
    ("op in another case", line({"id": 4, "op": "Cancel"}), "unknown request 'Cancel'", 4),
    ("unknown argument", line({"id": 5, "op": "pause", "force": True}),
     "pause: unknown argument 'force'", 5),
    ("argument of another op", line({"id": 5, "op": "cancel", "step_id": "a"}),
     "cancel: unknown argument 'step_id'", 5),
    ("step_id not a string", line({"id": 6, "op": "cancel_step", "step_id": 7}),
     "cancel_step: 'step_id' has the wrong type", 6),
    ("approved an integer", line({"id": 6, "op": "answer_gate", "step_id": "g", "approved": 1}),
     "answer_gate: 'approved' has the wrong type", 6),
    ("text a number", line({"id": 6, "op": "answer_gate", "step_id": "g", "text": 1.5}),
     "answer_gate: 'text' has the wrong type", 6),
    ("reason null", line({"id": 6, "op": "cancel", "reason": None}),
     "cancel: 'reason' has the wrong type", 6),
    ("allow a string", line({"id": 6, "op": "answer_permission", "request_id": "r",
                             "allow": "yes"}),
     "answer_permission: 'allow' has the wrong type", 6),
    ("cancel_step without step_id", line({"id": 8, "op": "cancel_step"}),
     "cancel_step: step_id missing", 8),
    ("answer_gate without step_id", line({"id": 8, "op": "answer_gate", "approved": True}),
     "answer_gate: step_id missing", 8),
    ("answer_permission without both", line({"id": 8, "op": "answer_permission"}),
     "answer_permission: request_id, allow missing", 8),
    ("answer_permission without allow", line({"id": 8, "op": "answer_permission",
                                              "request_id": "r"}),
     "answer_permission: allow missing", 8),
    ("one byte over the limit", padded(MAX_REQUEST_BYTES + 1), "over the limit", None),
    ("a MiB", b'{"id": 1, "op": "hello", "x": "' + b"y" * (1 << 20) + b'"}\n',
     "over the limit", None),
]


@pytest.mark.parametrize(("text", "says", "request_id"), [case[1:] for case in BAD],
                         ids=[case[0] for case in BAD])
def test_a_bad_request_is_refused_with_a_message(text: bytes, says: str,
                                                 request_id: int | None) -> None:
    with pytest.raises(BadRequest) as refused:
        decode_request(text)
    assert says in str(refused.value)
    assert refused.value.request_id == request_id


GOOD: list[tuple[str, dict[str, Any]]] = [
    ("hello", {}),
    ("subscribe", {}),
    ("status", {}),
    ("cancel", {}),
    ("cancel", {"reason": "enough"}),
    ("cancel_step", {"step_id": "lint"}),
    ("cancel_step", {"step_id": "lint", "reason": "too slow"}),
    ("pause", {}),
    ("resume", {}),
    ("answer_gate", {"step_id": "gate"}),
    ("answer_gate", {"step_id": "gate", "approved": False, "text": None}),
    ("answer_gate", {"step_id": "gate", "approved": True, "text": "édité ✓"}),
    ("answer_permission", {"request_id": "r1", "allow": True}),
    ("answer_permission", {"request_id": "r1", "allow": False, "for_step": True,
                           "reason": "no writes"}),
    ("release", {}),
]


@pytest.mark.parametrize(("op", "args"), GOOD, ids=[f"{op}-{i}" for i, (op, _) in
                                                    enumerate(GOOD)])
def test_a_good_request_reads_back_as_sent(op: str, args: dict[str, Any]) -> None:
    assert decode_request(encode_request(41, op, **args)) == Request(41, op, args)


def test_every_operation_has_a_good_case() -> None:
    assert {op for op, _ in GOOD} == set(OPS)


@pytest.mark.parametrize("text", [
    b'{"op": "hello"}',  # no id, no newline
    b'{"op":"status","id":null}\r\n',
    b'  {"id": 2, "op": "pause"}  \n',
])
def test_the_id_may_be_absent_and_whitespace_is_allowed(text: bytes) -> None:
    request = decode_request(text)
    assert request.op in ("hello", "status", "pause")
    assert request.id in (None, 2)


def test_a_request_at_the_limit_is_read() -> None:
    text = padded(MAX_REQUEST_BYTES)
    assert len(text) == MAX_REQUEST_BYTES
    assert decode_request(text).op == "cancel"


def test_replies_are_one_json_line_each() -> None:
    good, bad = reply(7, {"status": "running"}), error_reply(None, "nope ✗")
    assert good.endswith(b"\n") and good.count(b"\n") == 1
    assert json.loads(good) == {"reply": 7, "ok": True, "value": {"status": "running"}}
    assert json.loads(bad) == {"reply": None, "ok": False, "error": "nope ✗"}
    assert good.startswith(b'{"reply"') and bad.startswith(b'{"reply"')  # how viewers tell


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                              lambda inner: st.lists(inner, max_size=4)
                              | st.dictionaries(st.sampled_from(
                                  ["id", "op", "step_id", "approved", "text", "reason",
                                   "request_id", "allow", "x"]), inner, max_size=4),
                              max_leaves=12).map(lambda value: line(value))))
def test_any_line_is_read_or_refused_never_crashes(text: bytes) -> None:
    try:
        request = decode_request(text)
    except BadRequest:
        return
    assert request.op in OPS
    assert set(request.args) <= set(OPS[request.op])
