"""A step's child process from start to end: spawned guarded, ended with whatever it left.

A child runs in its own process group. Ending it signals the whole group (SIGTERM, then
SIGKILL after a grace period); once it has exited, what it left in its group is ended
too, and a process that escaped the group (``setsid``) but still holds the child's pipes
is found by its mark and killed, so the readers always finish.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from typing import Any

from ail_tui.processes.guard import GUARD

KILL_GRACE_SECONDS = 0.5


def signal_group(pgid: int, sig: int) -> bool:
    """Signal a process group; False when it is gone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_group(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """End ``process``, the leader of its own group, and its group: SIGTERM, then SIGKILL
    after ``grace`` seconds; returns once it has exited."""
    signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        signal_group(process.pid, signal.SIGKILL)
        process.wait()


class Child:
    """One step's child process, in its own group, carrying the step's mark."""

    def __init__(self, argv: list[str], **popen: Any) -> None:
        """Start ``argv`` (see :meth:`ProcessGuard.spawn`); OSError when it cannot start."""
        self.mark = GUARD.current_mark()
        self.process: subprocess.Popen[bytes] = GUARD.spawn(argv, self.mark, **popen)

    @property
    def pid(self) -> int:
        """The child's pid, which is also its process group id."""
        return self.process.pid

    def terminate(self) -> None:
        """SIGTERM the child's group now and SIGKILL it shortly after; returns at once."""
        if not signal_group(self.pid, signal.SIGTERM):
            return
        killer = threading.Timer(KILL_GRACE_SECONDS, signal_group,
                                 args=(self.pid, signal.SIGKILL))
        killer.daemon = True
        killer.start()

    def finish(self, readers: Sequence[threading.Thread], grace: float | None) -> bool:
        """Wait up to ``grace`` seconds for the child, else end it; then end what it left.

        Returns whether the child had to be ended (``grace`` ran out). The reader threads
        are joined; one still blocked after its pipe's holders were killed is abandoned.
        """
        process = self.process
        ended = False
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            ended = True
            self.terminate()
            try:
                process.wait(KILL_GRACE_SECONDS * 2)
            except subprocess.TimeoutExpired:
                signal_group(self.pid, signal.SIGKILL)
                process.wait()
        self.terminate()  # whatever it left running in its group
        _join(readers, KILL_GRACE_SECONDS)
        if any(reader.is_alive() for reader in readers):
            signal_group(self.pid, signal.SIGKILL)
            GUARD.end_marked(self.mark)  # escaped the group, still holding a pipe
            _join(readers, KILL_GRACE_SECONDS * 2)
        GUARD.release(self.pid)
        return ended


def _join(readers: Sequence[threading.Thread], within: float) -> None:
    for reader in readers:
        with contextlib.suppress(RuntimeError):
            reader.join(within)
