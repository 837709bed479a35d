"""A run's events for every subscriber: each gets all of them, from the first, in order.

A subscriber that joins late is first handed the events so far, then each new one, with
none lost or repeated between the two. Subscribers are called on the emitting thread,
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

    def emit(self, event: ev.Event) -> None:
        """Record ``event`` and hand it to every subscriber."""
        with self._lock:
            self._events.append(event)
            for sink in list(self._sinks):
                try:
                    sink(event)
                except Exception:  # a broken viewer never stops the run
                    self._sinks.remove(sink)

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]:
        """Hand ``sink`` the events so far (unless ``replay`` is off), then every new one.

        Returns the function that unsubscribes it.
        """
        with self._lock:
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
