"""Whether a process still lives: one that has exited but is not yet reaped counts as gone."""

from __future__ import annotations

import os
from pathlib import Path


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, gone but unreaped, is not: a parent
    that never reaps would otherwise keep it alive for ever)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's: it exists
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc: exists is all that can be told
    return state not in ("Z", "X")
