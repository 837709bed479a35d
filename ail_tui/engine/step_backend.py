"""Where step bodies run: the seam between deciding what a step does and doing it.

The executor renders a step's inputs (the prompt, the runner request, the shell command)
and hands the work to a :class:`StepBackend` with a cancel token and an event callback;
the backend returns what the work produced. :class:`LocalSteps`, the default, runs it
here: runners from the run's factory, shell commands as guarded child processes, branch
bodies on the process-wide worker pool. A backend that runs steps elsewhere (another
process, workers on other hosts) takes the same arguments, all of which are plain data
but the token and the callbacks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

from ail_tui.cancel import CancelToken
from ail_tui.engine import workers
from ail_tui.engine.shell import LineSink, ShellResult, run_shell
from ail_tui.runners.base import RunnerEventSink, RunnerRequest, RunnerResult
from ail_tui.runners.registry import RunnerFactory


class StepBackend(Protocol):
    """Runs the bodies of a run's steps."""

    def run_prompt(self, runner: str, request: RunnerRequest, emit: RunnerEventSink,
                   cancel: CancelToken, *, reconcile: str | None = None) -> RunnerResult:
        """Send ``request`` to the runner named ``runner``; raise ``RunnerError``.

        ``reconcile``: the step's rendered ``reconcile`` command (D3). A backend that
        tries a body again after losing its first attempt (a worker died) runs it
        instead: its stdout is the result, as when a run is resumed.
        """
        ...

    def run_shell(self, command: str, *, step_id: str, cwd: str, timeout: float,
                  on_line: LineSink, cancel: CancelToken,
                  env: dict[str, str] | None = None,
                  reconcile: str | None = None) -> ShellResult:
        """Run step ``step_id``'s ``command`` with ``/bin/sh -c`` in ``cwd`` (``env``:
        added to the environment; ``reconcile`` as for :meth:`run_prompt`); raise
        ``RunnerError``."""
        ...

    def submit(self, body: Callable[[], None]) -> None:
        """Run a branch's ``body`` concurrently with the run's other work."""
        ...


class LocalSteps:
    """Runs step bodies in this process."""

    def __init__(self, runners: RunnerFactory) -> None:
        self.runners = runners

    def run_prompt(self, runner: str, request: RunnerRequest, emit: RunnerEventSink,
                   cancel: CancelToken, *, reconcile: str | None = None) -> RunnerResult:
        """Send ``request`` to a fresh runner from the run's factory (a lost attempt
        here is a lost run: ``reconcile`` is for resuming it)."""
        return self.runners.create(runner).invoke(request, emit, cancel)

    def run_shell(self, command: str, *, step_id: str, cwd: str, timeout: float,
                  on_line: LineSink, cancel: CancelToken,
                  env: dict[str, str] | None = None,
                  reconcile: str | None = None) -> ShellResult:
        """Run ``command`` as a guarded child process of this one."""
        return run_shell(command, cancel, timeout=timeout, on_line=on_line, cwd=cwd,
                         env={**os.environ, **env} if env else None)

    def submit(self, body: Callable[[], None]) -> None:
        """Run ``body`` on the process-wide worker pool."""
        workers.submit(body)
