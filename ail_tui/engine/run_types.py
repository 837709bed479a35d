"""What a run is given and what it ends with: :class:`RunOptions` and :class:`RunResult`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from ail_tui.engine import events as ev
from ail_tui.runners.registry import RunnerFactory

if TYPE_CHECKING:
    from ail_tui.engine.prior_run import PriorRun
    from ail_tui.engine.step_backend import StepBackend
    from ail_tui.orchestration.temporal_target import TemporalTarget
    from ail_tui.turnlog.run_log import RecordWriter

EventSink = Callable[[ev.Event], None]
"""Receives a run's events, one call each, in order."""


@dataclass
class RunOptions:
    """How to run: the invocation prompt, runners, logging, and who answers gates."""

    prompt: str | None = None
    runner: str | None = None
    model: str | None = None
    interactive: bool = False
    runners: RunnerFactory = field(default_factory=RunnerFactory)
    write_log: bool = True
    sync_log: bool = True
    log_dir: Path | None = None
    cwd: str = field(default_factory=os.getcwd)
    disabled: frozenset[str] = frozenset()
    host_invocation: bool = True
    backend: StepBackend | None = None
    """Where step bodies run (None: in this process, with ``runners``)."""
    run_id: str | None = None
    """The run's id (None: a new one; a sub-pipeline's run that goes on keeps its own)."""
    orchestration: TemporalTarget | None = None
    """Where the run executes: None in this process; a Temporal service's workers."""
    records: Callable[[Path], RecordWriter] | None = None
    """Where the records of the log at a path go instead of that file (None: the file);
    a run driven on another machine ships them to the one that writes its log."""
    prior: PriorRun | None = None
    """An earlier run whose results this run reuses (resume: it *is* that run, D1–D4)."""

    def settle_run_id(self) -> str:
        """The run's id, fixed from now on: a resumed run's own, else :attr:`run_id`
        (made now when None), so it can be told before the run starts."""
        if self.prior is not None and self.prior.resume:
            return self.prior.run_id
        if self.run_id is None:
            self.run_id = str(uuid.uuid4())
        return self.run_id


class RunStatus(StrEnum):
    """How a run ended (the turn log's ``run_finished.status``)."""

    COMPLETED = "completed"
    BREAK = "break"
    ABORTED = "aborted"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class RunResult:
    """How a run ended."""

    run_id: str
    status: RunStatus
    error_type: str | None = None
    error: str | None = None
    step_id: str | None = None
    log_path: Path | None = None
    last_response: str | None = None
    last_session_id: str | None = None

    @property
    def succeeded(self) -> bool:
        """Whether the run completed (or stopped at a break)."""
        return self.status in (RunStatus.COMPLETED, RunStatus.BREAK)
