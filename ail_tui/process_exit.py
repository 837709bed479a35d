"""How an ail-tui process ends once its work is done."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Flush stdout and stderr and exit with ``code`` without the interpreter's
    finalization: nothing of ours is left to tear down, and Temporal's native threads,
    when loaded, may still call into Python while it is finalized, which aborts."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def must_exit_now() -> bool:
    """Whether this process loaded Temporal (see :func:`exit_now`)."""
    return "temporalio" in sys.modules
