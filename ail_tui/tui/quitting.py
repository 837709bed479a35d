"""Leaving the dashboard: ``q``, a stop signal, a closed terminal (decisions A6).

A run of this process is cancelled first. A run in a process of its own (one this
dashboard started, or one it attached to) may instead be left running: ``q`` asks. A
stop signal cancels a run this dashboard started and leaves an attached one alone.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ail_tui.tui.screens.dialogs import LeaveDialog
from ail_tui.tui.stop_signals import EXIT_INTERRUPTED, run_ended

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp


class Quitting:
    """How the dashboard ``app`` ends."""

    def __init__(self, app: AilApp) -> None:
        self.app = app

    async def quit(self) -> None:
        """``q``: during a run in another process ask detach or cancel; a run of this
        one's is cancelled first and its processes ended."""
        app = self.app
        run = app.current_run
        if run is not None and app.view.running:
            if app.session.detachable:
                app.push_screen(LeaveDialog(run.run_id), self.leave)
                return
            run.cancel("dashboard closed")
            await asyncio.to_thread(run.wait, 5)
        app.exit(0)

    async def leave(self, choice: str | None) -> None:
        """The answer of the leave dialog: ``detach``, ``cancel`` or None (stay)."""
        app = self.app
        run = app.current_run
        if choice is None or run is None:
            return
        if choice == "cancel":
            app.notify("Cancelling the run…")
            run.cancel("dashboard closed")
            await run_ended(run)
        else:
            await asyncio.to_thread(app.session.release)
        app.exit(0)

    async def stop(self, reason: str) -> None:
        """Stop at a stop signal or a closed terminal: cancel the run (not an attached
        one), let it record its end, exit with 130 (a second signal meanwhile forces the
        exit, see stop_signals)."""
        app = self.app
        run = app.current_run
        if run is not None and run.wait(0) is None and not app.session.attached:
            app.notify(f"Stopping: {reason}; cancelling the run…")
            run.cancel(reason, by="user")
            await run_ended(run)
        app.exit(EXIT_INTERRUPTED)
