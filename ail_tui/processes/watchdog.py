"""The watchdog: a small process that ends a run's step processes when the run's process dies.

Started by :mod:`ail_tui.processes.guard` with a pipe on stdin and a guard mark as its
argument. The parent announces process groups (``+PGID``) and their end (``-PGID``);
when the pipe closes — the parent exited, crashed or was killed with ``kill -9`` — every
announced group and every process carrying the mark is terminated, then killed.
It lives in a session of its own, so a terminal's signals never reach it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterable

from ail_tui.processes.marks import signal_marked

SWEEPS = ((signal.SIGTERM, 0.3), (signal.SIGKILL, 0.4), (signal.SIGKILL, 0.0))
"""Signal, then pause: processes get a moment to exit, then whatever is left is killed
(the later sweeps also catch a child that was forked but not yet marked by its exec)."""


def _signal_groups(groups: set[int], sig: int) -> None:
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)


def watch(mark: str, commands: Iterable[str]) -> None:
    """Track groups from ``commands`` (lines) until it ends, then end everything marked."""
    groups: set[int] = set()
    for line in commands:
        text = line.strip()
        if text[:1] == "+" and text[1:].isdigit():
            groups.add(int(text[1:]))
        elif text[:1] == "-" and text[1:].isdigit():
            groups.discard(int(text[1:]))
    for sig, pause in SWEEPS:
        _signal_groups(groups, sig)
        signal_marked(mark, sig)
        time.sleep(pause)


def main() -> None:
    """``python -m ail_tui.processes.watchdog MARK``."""
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    watch(sys.argv[1], sys.stdin)


if __name__ == "__main__":
    main()
