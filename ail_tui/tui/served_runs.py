"""Runs the dashboard starts in processes of their own (decisions A6): quitting can then
leave a run running (detach) instead of cancelling it, and ``ail-tui attach`` shows it
again. The run process is started off the UI thread; the run comes back as a
:class:`~ail_tui.tui.messages.RunLaunched` message. Until the dashboard detaches, the
run is its own: the run process cancels it if the dashboard dies (even by ``kill -9``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ail_tui.engine.run_types import RunOptions
from ail_tui.orchestration.launch import LaunchFailed, start_process
from ail_tui.orchestration.live_runs import runtime_dir, socket_path
from ail_tui.orchestration.remote_run import ControlError, RemoteRun
from ail_tui.orchestration.run_order import RunOrder
from ail_tui.pipeline.loader import Pipeline
from ail_tui.tui.messages import RunLaunched

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp

SERVE_MODULE = "ail_tui.orchestration.serve_order"


class ServedRuns:
    """Starts the dashboard ``app``'s runs in run processes."""

    def __init__(self, app: AilApp) -> None:
        self.app = app
        self.launching = False
        """A run process is starting: another run must wait for it."""
        self._unusable: str | None = None  # why run processes cannot be used ("" : they can)

    def usable(self) -> bool:
        """Whether run processes can be reached here (a private runtime folder); if not,
        says why once, and runs go on in the dashboard's own process."""
        if self._unusable is None:
            try:
                runtime_dir(create=True)
                self._unusable = ""
            except OSError as error:
                self._unusable = str(error)
                self.app.notify(f"Runs stay in this process (quitting cancels them): "
                                f"{error}", severity="warning", timeout=10)
        return not self._unusable

    def launch(self, pipeline: Pipeline, options: RunOptions, generation: int) -> None:
        """Start a run process for ``pipeline`` (the run arrives as RunLaunched)."""
        app = self.app
        self.launching = True
        order = RunOrder.of(pipeline, options).encode()

        def start() -> None:
            run: RemoteRun | None = None
            try:
                launched = start_process(["-m", SERVE_MODULE], order)
                run = RemoteRun(socket_path(launched.run_id))
                error = ""
            except (LaunchFailed, ControlError, OSError) as exc:
                error = str(exc)
            except Exception as exc:  # any failure is said, and the next run may start
                error = f"{type(exc).__name__}: {exc}"
            app.post_message(RunLaunched(pipeline, run, generation, error))

        app.run_worker(start, thread=True, group="launch", exit_on_error=False,
                       description="start the run's process")
