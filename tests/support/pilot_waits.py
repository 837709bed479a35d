"""Waiting for the dashboard under Pilot: for a condition, never for a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ail_tui.tui.app import AilApp


async def until(pilot: Any, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until ``condition()`` holds (``timeout``: long enough for a file
    watcher or a run process on a machine whose cores the other tests share)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the dashboard"
        await pilot.pause(0.05)


async def start_run(pilot: Any, app: AilApp) -> None:
    """Wait for the first verdict, then press r."""
    await until(pilot, lambda: app.pipeline is not None)
    await pilot.press("r")
