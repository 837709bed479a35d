"""The one way every front end sees a run: :class:`RunHandle`.

The dashboard, headless mode and a viewer of a finished run use only this protocol, so a
run in another process or on another machine is one more implementation of it, and no
front end changes for it. :class:`ail_tui.engine.local_run.LocalRun` is the run in this
process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ail_tui.engine.run_types import EventSink, RunResult
from ail_tui.runners.permissions import PermissionDecision


class RunHandle(Protocol):
    """A run: its events, its controls, and how it ended.

    Controls are thread-safe and return at once; what they change arrives as events.
    """

    @property
    def run_id(self) -> str:
        """The run's id (its turn log's name)."""
        ...

    def subscribe(self, sink: EventSink) -> Callable[[], None]:
        """Hand ``sink`` every event from the run's first, then each new one as it happens.

        Returns the function that unsubscribes it.
        """
        ...

    def cancel(self, reason: str = "run cancelled by user", by: str = "user") -> None:
        """Cancel the run: running steps are stopped, queued ones never start."""
        ...

    def cancel_step(self, step_id: str, reason: str = "cancelled by user") -> bool:
        """Cancel one running or queued step; False when it is neither."""
        ...

    def pause(self) -> None:
        """Start no new step until :meth:`resume` (running steps go on)."""
        ...

    def resume(self) -> None:
        """Go on after :meth:`pause`."""
        ...

    @property
    def paused(self) -> bool:
        """Whether the run is paused."""
        ...

    def answer_gate(self, step_id: str, approved: bool = True, text: str | None = None) -> bool:
        """Answer a waiting human gate; False when none waits at ``step_id``."""
        ...

    def answer_permission(self, request_id: str, decision: PermissionDecision) -> bool:
        """Decide a waiting tool-use permission request; False when none has that id."""
        ...

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """How the run ended, waiting at most ``timeout`` seconds (None: still running)."""
        ...


class ServedRun(RunHandle, Protocol):
    """A run this process owns and serves to viewers: a handle and where its log is."""

    @property
    def log_path(self) -> Path | None:
        """Where the run's turn log is written on this machine (None: nowhere)."""
        ...
