"""Finding processes by the mark they inherit in their environment, wherever they went.

Every step process is started with :data:`MARK_VARIABLE` in its environment, and every
process it starts inherits it, even one that left the step's process group (``setsid``,
a double fork). A mark is ``GUARD:RUN:STEP``, so a prefix selects a whole process, run
or step. Linux only (``/proc``); elsewhere nothing is found and process groups remain.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable

MARK_VARIABLE = "AIL_TUI_PROCESS_MARK"
_PROC = "/proc"


def marked_pids(prefix: str) -> list[int]:
    """The pids of live processes whose mark starts with ``prefix`` (not this process)."""
    needle = b"\0" + f"{MARK_VARIABLE}={prefix}".encode()
    return _pids_with(lambda environ: needle in environ)


def run_pids(run_id: str) -> list[int]:
    """The pids of live processes of run ``run_id``, whichever process started them."""
    needle = f":{run_id}:".encode()
    start = f"{MARK_VARIABLE}=".encode()

    def of_run(environ: bytes) -> bool:
        return any(item.startswith(start) and needle in item for item in environ.split(b"\0"))

    return _pids_with(of_run)


def _pids_with(test: Callable[[bytes], bool]) -> list[int]:
    me = os.getpid()
    try:
        names = os.listdir(_PROC)
    except OSError:
        return []
    found = []
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"{_PROC}/{name}/environ", "rb") as environ:
                data = b"\0" + environ.read()
        except OSError:
            continue
        if test(data):
            found.append(int(name))
    return found


def signal_marked(prefix: str, sig: int = signal.SIGKILL) -> int:
    """Send ``sig`` to every process marked with ``prefix``; returns how many there were."""
    return signal_pids(marked_pids(prefix), sig)


def signal_pids(pids: list[int], sig: int = signal.SIGKILL) -> int:
    """Send ``sig`` to each of ``pids`` (gone ones are passed over); returns how many."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
    return len(pids)
