"""Leaving the dashboard: ``q``, a stop signal, a closed terminal (decisions A6).

A run of this process is cancelled first. A run in a process of its own (one this
dashboard started, or one it attached to) may instead be left running: ``q`` asks. A
stop signal cancels a run this dashboard started and leaves an attached one alone.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from ail_tui.tui.screens.dialogs import LeaveDialog
from ail_tui.tui.stop_signals import EXIT_INTERRUPTED, run_ended

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp

LAUNCH_SECONDS = 1.0
"""How long quitting waits for a run process being started to report its run."""
GONE_SECONDS = 3.0
"""How long quitting waits for a cancelled run's own process to end its steps."""


class Quitting:
    """How the dashboard ``app`` ends."""

    def __init__(self, app: AilApp) -> None:
        self.app = app

    async def quit(self) -> None:
        """``q``: during a run in another process ask detach or cancel; a run of this
        one's is cancelled first and its processes ended."""
        app = self.app
        if app.served is not None and app.served.launching:
            app.notify("A run is starting; q again in a moment detaches from it or "
                       "cancels it.", severity="warning")
            return
        run = app.current_run
        if run is not None and app.view.running:
            if app.session.detachable:
                app.push_screen(LeaveDialog(run.run_id), self.leave)
                return
            run.cancel("dashboard closed")
            await asyncio.to_thread(run.wait, 5)
        app.exit(0)

    async def _launched(self) -> None:
        """A run process being started is waited for (briefly): its run is then on screen
        to be cancelled, not left behind (for a worker: a handler would block the
        message that ends the wait)."""
        served = self.app.served
        deadline = time.monotonic() + LAUNCH_SECONDS
        while served is not None and served.launching and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0)  # its RunLaunched message is handled first

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
            await asyncio.to_thread(app.session.wait_gone, GONE_SECONDS)
        else:
            await asyncio.to_thread(app.session.release)
        app.exit(0)

    async def stop(self, reason: str) -> None:
        """Stop at a stop signal or a closed terminal: cancel the run (not an attached
        one), let it record its end, exit with 130 (a second signal meanwhile forces the
        exit, see stop_signals)."""
        app = self.app
        await self._launched()
        run = app.current_run
        if run is not None and run.wait(0) is None and not app.session.attached:
            app.notify(f"Stopping: {reason}; cancelling the run…")
            run.cancel(reason, by="user")
            await run_ended(run)
            await asyncio.to_thread(app.session.wait_gone, GONE_SECONDS)
        app.exit(EXIT_INTERRUPTED)
