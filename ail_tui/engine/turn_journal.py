"""The turn log as a subscriber: a run's events turned into its records (brief §9, F3).

The executor emits each event once; :class:`TurnJournal` takes it first, before anyone
is told, and writes the record it stands for, synced to disk (or held for the next sync:
``defer``); a record's ``at`` is its event's. What only the log needs travels in the
events' record-only fields and in journal-only events
(:class:`ail_tui.engine.events.StepAborted`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ail_tui.engine import events as ev
from ail_tui.turnlog.run_log import RunLog


class TurnJournal:
    """Writes one run's turn log from its events; events with no record are passed over."""

    def __init__(self, log: RunLog, project_hash: str) -> None:
        self.log = log
        self._project_hash = project_hash
        self._index_told = False
        self._iteration: dict[str, tuple[int, ...]] = {}
        """Per step inside loops: the iteration its latest attempt belongs to."""
        self._records: dict[type[ev.Event], Callable[[Any, bool], None]] = {
            ev.RunStarted: self._run_started,
            ev.StepDefinitions: self._step_definitions,
            ev.StepStarted: self._step_started,
            ev.StepCompleted: self._step_completed,
            ev.StepRetrying: self._step_retrying,
            ev.StepErrorContinued: self._step_continued,
            ev.StepAborted: self._step_aborted,
            ev.StepCancelled: self._step_cancelled,
            ev.PipelineCompleted: self._run_finished,
            ev.PipelineError: self._run_finished,
        }

    @property
    def failure(self) -> str | None:
        """Why a record could not be written, when one could not (writes never raise)."""
        return self.log.failure

    def index_notice(self) -> str | None:
        """Once, after the run's copy in ``ail.db`` could not be written: what to tell the
        user (the run goes on; its JSONL is whole). None before and after that."""
        mirror = self.log.mirror
        if mirror is None or mirror.failed is None or self._index_told:
            return None
        self._index_told = True
        return mirror.notice

    def record(self, event: ev.Event, *, defer: bool = False) -> None:
        """Write the record ``event`` stands for; on disk when this returns, unless
        ``defer`` (then at the next record's sync, or :meth:`flush`)."""
        write = self._records.get(type(event))
        if write is not None:
            write(event, defer)

    def flush(self) -> None:
        """Put every record written so far on disk."""
        self.log.flush()

    def _run_started(self, event: ev.RunStarted, defer: bool) -> None:
        if event.resumed:
            self.log.run_resumed(event.at, pipeline_hash=event.pipeline_hash)
        else:
            self.log.run_started(event.pipeline_source, self._project_hash, event.at,
                                 pipeline_hash=event.pipeline_hash)

    def _step_definitions(self, event: ev.StepDefinitions, defer: bool) -> None:
        self.log.step_definitions(event.step_hashes, event.files_hash, event.at)

    def _step_started(self, event: ev.StepStarted, defer: bool) -> None:
        if event.iteration:
            self._iteration[event.step_id] = event.iteration
        else:
            self._iteration.pop(event.step_id, None)
        if event.recorded_prompt is not None:
            self.log.step_started(event.step_id, event.recorded_prompt,
                                  group=event.concurrent_group, launched_at=event.launched_at,
                                  at=event.at, iteration=event.iteration,
                                  child_run=event.child_run)

    def _step_completed(self, event: ev.StepCompleted, defer: bool) -> None:
        if event.entry is not None:
            self.log.entry(event.entry, defer=defer)
        elif event.gate_passed is not None and event.reused_from is None:
            self.log.gate_passed(event.step_id, at=event.at, iteration=event.gate_passed)

    def _step_retrying(self, event: ev.StepRetrying, defer: bool) -> None:
        self.log.step_error(event.step_id, event.error_type, event.error, "retry",
                            event.attempt, event.max_retries, event.at,
                            self._iteration.get(event.step_id, ()))

    def _step_continued(self, event: ev.StepErrorContinued, defer: bool) -> None:
        self.log.step_error(event.step_id, event.error_type, event.error, "continue",
                            at=event.at, iteration=self._iteration.get(event.step_id, ()))

    def _step_aborted(self, event: ev.StepAborted, defer: bool) -> None:
        self.log.step_error(event.step_id, event.error_type, event.error, "abort_pipeline",
                            event.retry_attempt, event.max_retries, event.at,
                            self._iteration.get(event.step_id, ()))

    def _step_cancelled(self, event: ev.StepCancelled, defer: bool) -> None:
        self.log.step_cancelled(event.step_id, event.cancelled_by, event.reason,
                                group=event.concurrent_group, launched_at=event.launched_at,
                                at=event.at, iteration=self._iteration.get(event.step_id, ()))

    def _run_finished(self, event: ev.PipelineCompleted | ev.PipelineError,
                      defer: bool) -> None:
        """The run's last record; the log is closed after it."""
        if isinstance(event, ev.PipelineCompleted):
            self.log.run_finished(event.outcome, at=event.at)
        else:
            self.log.run_finished(event.status, event.error_type, event.error, event.at)
        self.log.close()
