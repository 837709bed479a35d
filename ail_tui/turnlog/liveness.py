"""Whether a run is still being written: its writer holds a lock on the log while it lives.

The lock is the kernel's (``flock``), so it goes with the writer's process, whatever ends
it: a log that is unlocked and has no ``run_finished`` belongs to a run that crashed.
Locks are advisory; a filesystem without them makes every run look finished.
"""

from __future__ import annotations

import contextlib
import fcntl
import os


def hold(fd: int) -> None:
    """Mark the open log ``fd`` as being written (for as long as it stays open)."""
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def is_being_written(path: str | os.PathLike[str]) -> bool:
    """Whether a live writer holds the log at ``path``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False
