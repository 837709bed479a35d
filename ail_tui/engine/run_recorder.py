"""A run's records and its announcements, in the order that keeps the run honest.

Every step is on disk before it is reported: a step's start is written (and synced)
before it is announced and before its body runs; a turn entry is written before its
``step_completed``. The sequential cursor's entries are held (group commit): the entry
waits for the next record's sync and its announcement for that sync, so a sequential
step costs one ``fdatasync``, not two.
"""

from __future__ import annotations

import threading
import time

from ail_tui.cancel import Cancellation
from ail_tui.credentials import SECRETS
from ail_tui.engine import events as ev
from ail_tui.engine.run_types import EventSink
from ail_tui.engine.state import RunState
from ail_tui.turnlog.entry import TurnEntry
from ail_tui.turnlog.run_log import RunLog


class RunRecorder:
    """Writes a run's turn log and announces its events (masked) to ``sink``."""

    def __init__(self, log: RunLog, state: RunState, sink: EventSink) -> None:
        self.log = log
        self.state = state
        self._sink = sink
        self._emitting = threading.RLock()
        self._held: list[ev.Event] = []  # announced once the records they report are durable

    def emit(self, event: ev.Event) -> None:
        """Announce ``event``, after the events held until their records are on disk."""
        with self._emitting:
            if self._held:
                self.release()
            self._sink(ev.redact_event(event, SECRETS))

    def release(self) -> None:
        """Put a held entry on disk (if no later write has), then announce held events."""
        with self._emitting:
            if not self._held:
                return
            self.log.flush()  # at once when a later record's sync took it along
            held, self._held = self._held, []
            for event in held:
                self._sink(ev.redact_event(event, SECRETS))

    def started(self, event: ev.StepStarted, prompt: str, group: str | None = None,
                launched_at: float | None = None) -> None:
        """Record that a step's body begins, on disk before it (and its side effects)
        starts, then announce it. A held entry shares that sync."""
        self.log.step_started(event.step_id, prompt, group=group, launched_at=launched_at)
        self.emit(event)

    def completed(self, entry: TurnEntry, group: str | None = None, hold: bool = False) -> None:
        """Record an entry (memory, then disk) and announce it.

        ``hold`` (the sequential cursor, which always writes or announces something next):
        the record waits for the next sync, and its announcement for that sync.
        """
        if entry.completed_at is None:
            entry.completed_at = time.time()
        if entry.launched_at is None:
            entry.launched_at = entry.completed_at
        self.state.append(entry)
        completed = ev.StepCompleted(
            step_id=entry.step_id, cost_usd=entry.cost_usd, input_tokens=entry.input_tokens,
            output_tokens=entry.output_tokens, response=entry.response, model=entry.model,
            concurrent_group=group, exit_code=entry.exit_code)
        if hold:
            with self._emitting:
                self.log.entry(entry, defer=True)
                self._held.append(completed)
        else:
            self.log.entry(entry)
            self.emit(completed)

    def cancelled(self, step_id: str, why: Cancellation, group: str | None = None,
                  launched_at: float | None = None) -> None:
        """Record and announce a cancelled step."""
        self.log.step_cancelled(step_id, why.by, why.reason, group=group,
                                launched_at=launched_at)
        self.emit(ev.StepCancelled(step_id=step_id, cancelled_by=why.by, reason=why.reason,
                                   concurrent_group=group))
