"""Whether a process still lives, for the tests that promise none is left behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ail_tui.processes.marks import MARK_VARIABLE


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie awaiting its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def gone_soon(pid: int, within: float = 1.0) -> bool:
    """Whether ``pid`` is gone within ``within`` seconds."""
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


TAG_VARIABLE = "AIL_TEST_TAG"
"""Tests set it for the program they start: every process the program starts inherits it."""


def tagged(tag: str) -> list[int]:
    """The live processes started (directly or not) by a program run with this tag."""
    needle = f"\0{TAG_VARIABLE}={tag}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = b"\0" + (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def none_tagged_within(tag: str, within: float) -> list[int]:
    """Wait up to ``within`` seconds for every process with ``tag`` to end; the survivors."""
    deadline = time.monotonic() + within
    while (left := tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def step_processes(tag: str) -> list[int]:
    """The live step processes of the program run with ``tag``: of the processes it
    started, those that carry a run's mark in their environment."""
    marked = f"\0{MARK_VARIABLE}=".encode()
    found = []
    for pid in tagged(tag):
        try:
            environ = b"\0" + Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if marked in environ:
            found.append(pid)
    return found
