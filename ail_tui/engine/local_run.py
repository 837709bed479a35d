"""A run in this process: an :class:`Executor` on a thread of its own, behind a RunHandle."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ail_tui.engine.event_stream import EventStream
from ail_tui.engine.executor import Executor
from ail_tui.engine.run_types import EventSink, RunOptions, RunResult
from ail_tui.pipeline.loader import Pipeline
from ail_tui.runners.permissions import PermissionDecision


class LocalRun:
    """Runs ``pipeline`` once :meth:`start` is called; every event goes to its stream."""

    def __init__(self, pipeline: Pipeline, options: RunOptions | None = None) -> None:
        self.events = EventStream()
        self.executor = Executor(pipeline, options, self.events.emit)
        self._thread: threading.Thread | None = None
        self._done = threading.Event()

    @property
    def run_id(self) -> str:
        """The run's id (its turn log's name)."""
        return self.executor.run_id

    @property
    def log_path(self) -> Path | None:
        """Where its turn log is written (None: not written)."""
        return self.executor.log_path

    def start(self) -> LocalRun:
        """Start the run on a thread of its own."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name=f"ail-run-{self.run_id[:8]}")
            self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.executor.run()
        finally:
            self._done.set()

    def subscribe(self, sink: EventSink) -> Callable[[], None]:
        """Hand ``sink`` every event from the run's first, then each new one."""
        return self.events.subscribe(sink)

    def cancel(self, reason: str = "run cancelled by user", by: str = "user") -> None:
        """Cancel the run: running steps are stopped, queued ones never start."""
        self.executor.cancel(reason, by)

    def cancel_step(self, step_id: str, reason: str = "cancelled by user") -> bool:
        """Cancel one running or queued step; False when it is neither."""
        return self.executor.cancel_step(step_id, reason)

    def pause(self) -> None:
        """Start no new step until :meth:`resume`."""
        self.executor.pause()

    def resume(self) -> None:
        """Go on after :meth:`pause`."""
        self.executor.resume()

    @property
    def paused(self) -> bool:
        """Whether the run is paused."""
        return self.executor.paused

    def answer_gate(self, step_id: str, approved: bool = True, text: str | None = None) -> bool:
        """Answer a waiting human gate; False when none waits at ``step_id``."""
        return self.executor.answer_gate(step_id, approved, text)

    def answer_permission(self, request_id: str, decision: PermissionDecision) -> bool:
        """Decide a waiting tool-use permission request; False when none has that id."""
        return self.executor.answer_permission(request_id, decision)

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """How the run ended, waiting at most ``timeout`` seconds (None: still running)."""
        if self._thread is None or not self._done.wait(timeout):
            return None
        return self.executor.result
