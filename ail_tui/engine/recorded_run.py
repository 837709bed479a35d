"""A run read from its turn log, behind a :class:`~ail_tui.engine.run_handle.RunHandle`.

A replay is a finished run: its events are all known when it is read (ours or the Rust
``ail``'s, crashed or not: :mod:`ail_tui.engine.recorded_events`), a subscriber gets
them at once, its controls change nothing, and :meth:`RecordedRun.wait` answers at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ail_tui.engine import events as ev
from ail_tui.engine.recorded_events import UNFINISHED, recorded_events
from ail_tui.engine.run_types import EventSink, RunResult, RunStatus
from ail_tui.runners.permissions import PermissionDecision
from ail_tui.turnlog.reader import RunRecord, read_run

ENDED = {status.value: status for status in RunStatus}
"""The statuses a ``run_finished`` record may give, as a run's end."""


def _nothing() -> None:
    return None


class RecordedRun:
    """The run a turn log records (see :func:`~ail_tui.turnlog.reader.read_run`)."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self.events: tuple[ev.Event, ...] = tuple(recorded_events(record))
        self._result = _result(record)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> RecordedRun:
        """Read the turn log at ``path``; raise ``OSError`` when it cannot be read."""
        return cls(read_run(path))

    @property
    def run_id(self) -> str:
        """The run's id (its turn log's name)."""
        return self.record.run_id

    @property
    def log_path(self) -> Path:
        """The turn log it was read from."""
        return self.record.path

    @property
    def pipeline_source(self) -> str | None:
        """The pipeline file the run ran, as its log says (None: the log does not say)."""
        return self.record.pipeline_source

    def subscribe(self, sink: EventSink) -> Callable[[], None]:
        """Hand ``sink`` every event of the run, now; there will be no more."""
        for event in self.events:
            sink(event)
        return _nothing

    def cancel(self, reason: str = "run cancelled by user", by: str = "user") -> None:
        """Nothing to cancel: the run is over."""

    def cancel_step(self, step_id: str, reason: str = "cancelled by user") -> bool:
        """False: no step of a recorded run is running or queued."""
        return False

    def pause(self) -> None:
        """Nothing to pause: the run is over."""

    def resume(self) -> None:
        """Nothing to resume: the run is over."""

    @property
    def paused(self) -> bool:
        """False: a recorded run is never paused."""
        return False

    def answer_gate(self, step_id: str, approved: bool = True, text: str | None = None) -> bool:
        """False: no gate of a recorded run waits."""
        return False

    def answer_permission(self, request_id: str, decision: PermissionDecision) -> bool:
        """False: no permission request of a recorded run waits."""
        return False

    def wait(self, timeout: float | None = None) -> RunResult:
        """How the run ended, at once.

        A ``run_finished`` status is the result's; a log without one (a crashed run,
        ``interrupted``, or one still being written when read, ``running``) and an
        unknown status read as ``failed``: the run did not succeed as far as anyone can
        tell, and its ``error`` says why.
        """
        return self._result


def _result(record: RunRecord) -> RunResult:
    entries = [r for r in record.records if "step_id" in r and "type" not in r
               and "event" not in r]
    last = entries[-1] if entries else {}
    status = ENDED.get(record.status)
    error = record.error
    if status is None:
        status = RunStatus.FAILED
        error = error or {"interrupted": UNFINISHED,
                          "running": "the run was still being written when its log was read"
                          }.get(record.status, f"the run ended as '{record.status}'")
    response, session = last.get("response"), last.get("runner_session_id")
    return RunResult(
        run_id=record.run_id, status=status, error_type=record.error_type, error=error,
        log_path=record.path, last_response=response if isinstance(response, str) else None,
        last_session_id=session if isinstance(session, str) else None)
