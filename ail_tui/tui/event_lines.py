"""The event log's lines: one per engine event, with relative and wall-clock times."""

from __future__ import annotations

from datetime import datetime

from ail_tui.engine import events as ev
from ail_tui.tui.runner_notes import runner_note


def _times(at: float, origin: float | None) -> str:
    relative = f"+{at - origin:8.3f}s" if origin else " " * 10
    return f"{relative} {datetime.fromtimestamp(at).strftime('%H:%M:%S.%f')[:-3]}"


def event_line(event: ev.Event, origin: float | None) -> str:
    """One event: times, type, step and its notable fields (``origin``: the run's start)."""
    data = event.to_json()
    step = data.pop("step_id", "") or ""
    for key in ("type", "at", "event"):
        data.pop(key, None)
    if data.pop("resumed", None):  # first: the run goes on after it stopped (D1)
        data = {"resumed": True, **data}
    if isinstance(event, ev.RunnerEvent):
        inner = dict(event.event)
        note = runner_note(inner)
        data = {"runner": inner.pop("type", "?"), **({"note": note} if note else {
            k: v for k, v in inner.items() if k in ("text", "tool_name")})}
    detail = " ".join(f"{k}={v!r}" for k, v in data.items() if v not in (None, "", [], {}))
    return f"{_times(event.at, origin)} {event.type:<20} {step:<16} {detail[:300]}"


def stream_line(step: str, chunks: int, chars: int, first: float, origin: float | None) -> str:
    """All the text a step streamed, as one line (the chunks are not listed one by one)."""
    return f"{_times(first, origin)} {'stream_delta':<20} {step:<16} ×{chunks} ({chars} chars)"
