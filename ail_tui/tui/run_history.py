"""The history (``h``): this project's runs, read off the UI thread. A finished run opens
as a replay; a live run of another process opens attached (A3); ``R`` resumes (D1)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.tui.messages import RunAttached, RunRead

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp
    from ail_tui.tui.screens.history import HistoryPick
    from ail_tui.turnlog.store import RunSummary


class RunHistory:
    """The dashboard ``app``'s history screen and what it opens."""

    def __init__(self, app: AilApp) -> None:
        self.app = app

    def open(self) -> None:
        """List the runs (off the UI thread), then show them."""
        self.app.run_worker(self._list, thread=True, group="history", exclusive=True,
                            exit_on_error=False, description="list runs")

    def _list(self) -> None:
        from ail_tui.orchestration.live_runs import live_runs
        from ail_tui.turnlog.store import list_runs

        runs = list_runs()
        try:
            live = {run.run_id for run in live_runs()}
        except OSError:  # no private runtime folder: no run can be attached to
            live = set()
        self.app.call_from_thread(self._show, runs, live)

    def _show(self, runs: list[RunSummary], live: set[str]) -> None:
        from ail_tui.tui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(runs, live), self.picked)

    def picked(self, pick: HistoryPick | None) -> None:
        """Open, attach to or resume the run picked."""
        app = self.app
        if pick is None:
            return
        if pick.resume:
            app.starts.resume(pick.path)
            return
        if app.view.running and not app.replaying and not app.session.attached:
            app.notify("A run is in progress; cancel it before opening another.",
                       severity="warning")
            return
        if pick.live is not None:
            run_id = pick.live
            app.run_worker(lambda: self._attach(run_id), thread=True, group="history",
                           exclusive=True, exit_on_error=False, description="attach to a run")
            return
        path = pick.path
        app.run_worker(lambda: self._read(path), thread=True, group="history",
                       exclusive=True, exit_on_error=False, description="read a run")

    def _read(self, path: Path) -> None:
        try:
            self.app.post_message(RunRead(path, RecordedRun.read(path)))
        except OSError as exc:
            self.app.post_message(RunRead(path, None, str(exc)))

    def _attach(self, run_id: str) -> None:
        from ail_tui.orchestration.live_runs import socket_path
        from ail_tui.orchestration.remote_run import RemoteRun

        try:
            self.app.post_message(RunAttached(RemoteRun(socket_path(run_id))))
        except OSError as exc:
            self.app.post_message(RunAttached(None, str(exc)))

    def read(self, message: RunRead) -> None:
        """A run picked was read: show it."""
        app = self.app
        run = message.run
        if run is None:
            app.notify(f"Cannot read {message.path}: {message.error}", severity="error")
            return
        same = app.pipeline is not None and run.pipeline_source == str(app.pipeline.source)
        app.open_replay(run, app.pipeline if same else None)

    def attached(self, message: RunAttached) -> None:
        """A live run picked was reached: follow it."""
        if message.run is None:
            self.app.notify(f"Cannot attach: {message.error}", severity="error")
            return
        self.app.open_attached(message.run, own_connection=True)
