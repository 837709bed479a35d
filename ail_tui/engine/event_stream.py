"""A run's events for every subscriber: each gets all of them, from the first, in order.

A subscriber that joins late is first handed the events so far, then each new one, with
none lost or repeated between the two. The events so far are kept compact: a step's
streamed text is kept as one ``stream_delta`` per stretch of text (until another event
of that step), the way the dashboard folds it anyway. Subscribers are called on the emitting thread,
in the order they subscribed, while the stream is locked (so two threads' events reach
every subscriber in the same order): they must return quickly, handing slow work to a
thread of their own. A subscriber that raises is dropped, and the run goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ail_tui.engine import events as ev
from ail_tui.engine.run_types import EventSink


class EventStream:
    """The events of one run so far, and who receives the next ones. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a subscriber may emit (e.g. a log failure)
        self._events: list[ev.Event] = []
        self._sinks: list[EventSink] = []
        self._streaming: dict[str, tuple[int, list[str], list[int]]] = {}
        """Per step: where its open stretch of stream deltas is kept, its texts and the
        number of chunks they came in."""

    def emit(self, event: ev.Event) -> None:
        """Record ``event`` and hand it to every subscriber."""
        with self._lock:
            self._keep(event)
            for sink in list(self._sinks):
                try:
                    sink(event)
                except Exception:  # a broken viewer never stops the run
                    self._sinks.remove(sink)

    def _keep(self, event: ev.Event) -> None:
        step_id = getattr(event, "step_id", None)
        if isinstance(event, ev.RunnerEvent) and event.event.get("type") == "stream_delta":
            text, chunks = str(event.event.get("text", "")), int(event.event.get("chunks", 1))
            stretch = self._streaming.get(event.step_id)
            if stretch is None:
                self._streaming[event.step_id] = (len(self._events), [text], [chunks])
                self._events.append(event)  # its place; the folded stretch replaces it
            else:
                stretch[1].append(text)
                stretch[2][0] += chunks
            return
        if isinstance(step_id, str) and step_id in self._streaming:
            self._fold(step_id)
        self._events.append(event)

    def _fold(self, step_id: str) -> None:
        """One event, at the first one's place, for a step's open stretch of deltas."""
        at, texts, chunks = self._streaming.pop(step_id)
        if len(texts) > 1:
            first = self._events[at]
            assert isinstance(first, ev.RunnerEvent)
            self._events[at] = ev.RunnerEvent(step_id=step_id, at=first.at, event={
                **first.event, "text": "".join(texts), "chunks": chunks[0]})

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]:
        """Hand ``sink`` the events so far (unless ``replay`` is off), then every new one.

        Returns the function that unsubscribes it.
        """
        with self._lock:
            for step_id in list(self._streaming):
                self._fold(step_id)
            if replay:
                for event in self._events:
                    sink(event)
            self._sinks.append(sink)

        def unsubscribe() -> None:
            with self._lock:
                if sink in self._sinks:
                    self._sinks.remove(sink)

        return unsubscribe

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)
