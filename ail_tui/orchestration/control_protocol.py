"""The control channel's messages: what a viewer asks a run, and what it answers.

One JSON object per line each way, UTF-8. A viewer's request::

    {"id": 7, "op": "cancel_step", "step_id": "lint"}

``id`` is any integer of the viewer's (echoed in the reply); ``op`` is one of
:data:`OPS`, each with the arguments listed there. The run answers every request with a
reply line, ``{"reply": 7, "ok": true, "value": ...}`` or ``{"reply": 7, "ok": false,
"error": "..."}``; after ``subscribe`` it also sends the run's events, one line each in
the form of :mod:`ail_tui.engine.event_codec` (an object with a ``type``, never a
``reply``). A request that is malformed, too long or unknown gets an error reply (``id``
null when it could not be read) and changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PROTOCOL = 1
"""Sent in the ``hello`` reply; a viewer of another version says so instead of guessing."""
MAX_REQUEST_BYTES = 64 * 1024
"""The longest request line a run reads (a gate's typed text fits many times over)."""

OPS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "hello": {},
    "subscribe": {},
    "status": {},
    "cancel": {"reason": str},
    "cancel_step": {"step_id": str, "reason": str},
    "pause": {},
    "resume": {},
    "answer_gate": {"step_id": str, "approved": bool, "text": (str, type(None))},
    "answer_permission": {"request_id": str, "allow": bool, "for_step": bool, "reason": str},
    "release": {},
}
"""Every request and its arguments (all optional except those in :data:`REQUIRED`).
``release``: the run's owner (the dashboard that started it) leaves it running."""
REQUIRED = {"cancel_step": ("step_id",), "answer_gate": ("step_id",),
            "answer_permission": ("request_id", "allow")}


class BadRequest(ValueError):
    """A request line the run cannot act on; its text goes back in the error reply."""

    def __init__(self, message: str, request_id: int | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


@dataclass(frozen=True)
class Request:
    """One request, checked: its id, operation and arguments."""

    id: int | None
    op: str
    args: dict[str, Any]


def encode_request(request_id: int, op: str, /, **args: Any) -> bytes:
    """A request line."""
    return (json.dumps({"id": request_id, "op": op, **args}, ensure_ascii=False,
                       separators=(",", ":")) + "\n").encode("utf-8")


def decode_request(line: bytes) -> Request:
    """The request of one line; :class:`BadRequest` for anything malformed or unknown."""
    if len(line) > MAX_REQUEST_BYTES:
        raise BadRequest(f"request over the limit of {MAX_REQUEST_BYTES} bytes")
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeError, ValueError, RecursionError) as error:
        raise BadRequest(f"request is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise BadRequest("request is not a JSON object")
    request_id = data.get("id")
    if request_id is not None and (type(request_id) is not int):
        raise BadRequest("request 'id' is not an integer")
    op = data.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise BadRequest(f"unknown request {op!r}; known: {', '.join(OPS)}", request_id)
    arguments = OPS[op]
    args: dict[str, Any] = {}
    for name, value in data.items():
        if name in ("id", "op"):
            continue
        kind = arguments.get(name)
        if kind is None:
            raise BadRequest(f"{op}: unknown argument {name!r}", request_id)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if type(value) not in kinds:
            raise BadRequest(f"{op}: {name!r} has the wrong type", request_id)
        args[name] = value
    missing = [name for name in REQUIRED.get(op, ()) if name not in args]
    if missing:
        raise BadRequest(f"{op}: {', '.join(missing)} missing", request_id)
    return Request(request_id, op, args)


def reply(request_id: int | None, value: Any = None) -> bytes:
    """A success reply line."""
    return _line({"reply": request_id, "ok": True, "value": value})


def error_reply(request_id: int | None, message: str) -> bytes:
    """An error reply line."""
    return _line({"reply": request_id, "ok": False, "error": message})


def _line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
