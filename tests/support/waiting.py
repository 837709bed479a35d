"""Waiting for a condition with a deadline, never for a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], within: float, what: str,
             every: float = 0.02) -> Any:
    """Poll ``condition`` until it is truthy (its value); AssertionError after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        time.sleep(every)


def stays_false(condition: Callable[[], Any], for_seconds: float, what: str,
                every: float = 0.02) -> None:
    """Poll ``condition`` for ``for_seconds``; AssertionError as soon as it holds.

    For promises that something does *not* happen (a signal that must not stop a run):
    the window is the longest the thing would take to happen if it were going to.
    """
    deadline = time.monotonic() + for_seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            raise AssertionError(f"{what}: {value!r}")
        time.sleep(every)
