"""The engine → dashboard hand-off: a queue that folds streamed text per step.

Engine threads never touch widgets; they put events here. Stream deltas of a step are
joined until the dashboard takes them (or until another event of that step arrives,
which keeps each step's events in order), so an event storm costs the interface one
item per step per tick instead of one per chunk. No event that changes state is dropped.
"""

from __future__ import annotations

import threading
from collections import deque

from ail_tui.engine import events as ev


class EventSink:
    """Thread-safe; ``put`` never blocks a step."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[ev.Event] = deque()
        self._streams: dict[str, list[str]] = {}
        self._first_at: dict[str, float] = {}
        self.received = 0

    def put(self, event: ev.Event) -> None:
        """Called by engine threads."""
        with self._lock:
            self.received += 1
            if isinstance(event, ev.RunnerEvent) and event.event.get("type") == "stream_delta":
                self._streams.setdefault(event.step_id, []).append(
                    str(event.event.get("text", "")))
                self._first_at.setdefault(event.step_id, event.at)
                return
            step_id = getattr(event, "step_id", None)
            if isinstance(step_id, str) and step_id in self._streams:
                self._flush(step_id)
            self._queue.append(event)

    def _flush(self, step_id: str) -> None:
        pieces = self._streams.pop(step_id)
        at = self._first_at.pop(step_id)
        self._queue.append(ev.RunnerEvent(step_id=step_id, at=at, event={
            "type": "stream_delta", "text": "".join(pieces), "chunks": len(pieces)}))

    def take(self, limit: int) -> list[ev.Event]:
        """Up to ``limit`` events in order, pending streamed text included."""
        with self._lock:
            for step_id in list(self._streams):
                self._flush(step_id)
            count = min(limit, len(self._queue))
            return [self._queue.popleft() for _ in range(count)]
