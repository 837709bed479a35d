"""The driver's events, turn-log records and requests for step bodies on their way to
the workflow, in order.

One ``publish`` signal is in flight at a time; what is produced meanwhile goes in the
next one, so a burst costs a few signals, not one per event. A batch of output alone
(no step starting or ending in it) waits up to :data:`OUTPUT_SECONDS`, which keeps the
workflow's history small while text streams; anything else goes at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ail_tui.credentials import SECRETS
from ail_tui.engine import events as ev
from ail_tui.engine.event_codec import encode_event
from ail_tui.orchestration.temporal.messages import Answer, BodyRequest, Published

OUTPUT_SECONDS = 0.2
"""How long output alone may wait to be sent."""
_OUTPUT = (ev.StepOutput, ev.RunnerEvent)


class Publisher:
    """Sends batches with ``send`` from a thread of its own until :meth:`close`."""

    def __init__(self, send: Callable[[Published], None]) -> None:
        self._send = send
        self._lock = threading.Condition()
        self._batch = Published()
        self._urgent = False
        self._closing = False
        self.failed: str | None = None
        """Why a batch could not be sent (the first failure)."""
        self._thread = threading.Thread(target=self._loop, name="ail-publish", daemon=True)
        self._thread.start()

    def event(self, event: ev.Event) -> None:
        """Queue an announced event."""
        line = encode_event(event).decode().rstrip("\n")
        with self._lock:
            self._batch.events.append(line)
            if not isinstance(event, _OUTPUT):
                self._urgent = True
            self._lock.notify()

    def record(self, log_name: str, record: dict[str, Any]) -> None:
        """Queue a turn-log record of the log named ``log_name``."""
        with self._lock:
            self._batch.records.append([log_name, SECRETS.redact_value(record)])
            self._urgent = True
            self._lock.notify()

    def body(self, request: BodyRequest) -> None:
        """Queue a request for a step body (it goes at once)."""
        with self._lock:
            self._batch.bodies.append(request)
            self._urgent = True
            self._lock.notify()

    def answer(self, answer: Answer) -> None:
        """Queue the decision on a body's question (it goes at once)."""
        with self._lock:
            self._batch.answers.append(answer)
            self._urgent = True
            self._lock.notify()

    def writer(self, path: Path) -> RecordsOut:
        """The record writer of the log at ``path`` (named by its file name)."""
        return RecordsOut(self, path.name)

    def _loop(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._closing or self._urgent
                                    or bool(self._batch.events))
                if not self._urgent and not self._closing:
                    self._lock.wait_for(lambda: self._urgent or self._closing,
                                        timeout=OUTPUT_SECONDS)
                batch, self._batch, self._urgent = self._batch, Published(), False
                closing = self._closing
            if _any(batch):
                self._deliver(batch)
            if closing:
                with self._lock:
                    if not _any(self._batch):
                        return

    def _deliver(self, batch: Published) -> None:
        for attempt in range(5):
            try:
                self._send(batch)
                return
            except Exception as error:  # the server away for a moment: try again
                if attempt == 4:
                    self.failed = self.failed or f"could not publish the run's events: {error}"
                    return
                time.sleep(0.2 * (attempt + 1))

    def close(self) -> None:
        """Send everything queued, then stop."""
        with self._lock:
            self._closing = True
            self._lock.notify()
        self._thread.join()


def _any(batch: Published) -> bool:
    return bool(batch.events or batch.records or batch.bodies or batch.answers)


class RecordsOut:
    """A :class:`~ail_tui.turnlog.run_log.RecordWriter` that publishes its records."""

    def __init__(self, publisher: Publisher, log_name: str) -> None:
        self._publisher = publisher
        self._log_name = log_name
        self.failed: str | None = None

    def write(self, record: dict[str, Any], *, defer: bool = False) -> None:
        """Queue ``record``: the workflow's history, not this machine, keeps it."""
        self._publisher.record(self._log_name, record)

    def flush(self) -> None:
        """Nothing to wait for: a body's outcome is kept by the workflow whether or not
        its record got there, so a driver started again never runs it twice."""

    def close(self) -> None:
        """Nothing to close."""
