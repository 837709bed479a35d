"""A run's records and its announcements, in the order that keeps the run honest.

Every step is on disk before it is reported: each event goes to the run's
:class:`~ail_tui.engine.turn_journal.TurnJournal` before anyone is told of it, so a step's
start is written (and synced) before it is announced and before its body runs, and a turn
entry before its ``step_completed``. The sequential cursor's entries are held (group
commit): the entry waits for the next record's sync and its announcement for that sync,
so a sequential step costs one ``fdatasync``, not two.
"""

from __future__ import annotations

import threading
import time

from ail_tui.cancel import Cancellation
from ail_tui.credentials import SECRETS
from ail_tui.engine import events as ev
from ail_tui.engine.run_types import EventSink
from ail_tui.engine.state import RunState
from ail_tui.engine.turn_journal import TurnJournal
from ail_tui.turnlog.entry import TurnEntry


class RunRecorder:
    """Hands each event to the run's :class:`TurnJournal` first, then announces it
    (without its record-only fields, secrets masked) to ``sink``."""

    def __init__(self, journal: TurnJournal, state: RunState, sink: EventSink) -> None:
        self.journal = journal
        self.state = state
        self._sink = sink
        self._emitting = threading.RLock()
        self._held: list[ev.Event] = []  # announced once the records they report are durable

    def emit(self, event: ev.Event) -> None:
        """Record ``event``, then announce it after the events held until their records
        are on disk (its own sync takes a held record along)."""
        self.journal.record(event)  # unlocked: branches' records share one sync
        if event.journal_only:
            return  # nothing is told, so nothing held need be released for it
        with self._emitting:
            if self._held:
                self.release()
            self._tell_index_failure()
            self._sink(ev.announced(event, SECRETS))

    def release(self) -> None:
        """Put a held entry on disk (if no later write has), then announce held events."""
        with self._emitting:
            if not self._held:
                return
            self.journal.flush()  # at once when a later record's sync took it along
            held, self._held = self._held, []
            for event in held:
                self._sink(ev.announced(event, SECRETS))

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
        already = entry.reused_from is not None and entry.reused_from == self.state.run_id
        completed = ev.StepCompleted(
            step_id=entry.step_id, cost_usd=entry.cost_usd, input_tokens=entry.input_tokens,
            output_tokens=entry.output_tokens, response=entry.response, model=entry.model,
            concurrent_group=group, exit_code=entry.exit_code,
            reused_from=entry.reused_from, reconciled=entry.reconciled or None,
            entry=None if already else entry)  # a resumed run's log holds it already
        if hold:
            with self._emitting:
                self.journal.record(completed, defer=True)
                self._held.append(completed)
        else:
            self.emit(completed)

    def cancelled(self, step_id: str, why: Cancellation, group: str | None = None,
                  launched_at: float | None = None) -> None:
        """Record and announce a cancelled step."""
        self.emit(ev.StepCancelled(step_id=step_id, cancelled_by=why.by, reason=why.reason,
                                   concurrent_group=group, launched_at=launched_at))

    def finish(self, terminal: ev.PipelineCompleted | ev.PipelineError) -> bool:
        """Record the run's end (the log's last record) and announce it; False, with
        nothing announced, when the log lost a record (the run did not end that way)."""
        with self._emitting:
            self.journal.record(terminal)  # a held entry shares its sync
            self.release()
            self._tell_index_failure()  # the index is written (or given up) by now
            if self.journal.failure is not None:
                return False
            self._sink(ev.announced(terminal, SECRETS))
            return True

    def _tell_index_failure(self) -> None:
        """Announce, once, that the run's copy in ``ail.db`` could not be written: a
        warning, so every front end (the dashboard's event log among them) shows it."""
        notice = self.journal.index_notice()
        if notice is not None:
            self._sink(ev.announced(ev.Warning_(message=notice), SECRETS))

    def announce(self, event: ev.Event) -> None:
        """Announce ``event`` without recording it (the end of a run whose log failed)."""
        with self._emitting:
            self._sink(ev.announced(event, SECRETS))
