"""A run's events as a test sees them: collected from any thread, waited for by condition."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ail_tui.engine import events as ev


class Recorder:
    """Collects events from engine threads and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self._changed = threading.Condition()

    def __call__(self, event: ev.Event) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_for(self, test: Callable[[ev.Event], bool], timeout: float = 10.0) -> ev.Event:
        """The first event ``test`` accepts, waiting up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((e for e in self.events if test(e)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                assert left > 0, "timed out waiting for an event"
                self._changed.wait(left)

    def started(self, step_id: str, timeout: float = 10.0) -> ev.Event:
        """The ``step_started`` event of ``step_id``."""
        return self.wait_for(
            lambda e: isinstance(e, ev.StepStarted) and e.step_id == step_id, timeout)
