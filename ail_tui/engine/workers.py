"""A process-wide pool of worker threads for branch bodies.

Starting a thread costs far more than handing work to an idle one; a run that
launches hundreds of branches reuses the threads an earlier run (or an earlier branch)
left idle. The pool grows without bound (a branch may block for minutes) and idle
workers exit after a while.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

IDLE_SECONDS = 60.0

_lock = threading.Lock()
_work: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
_idle = 0  # waiting workers not yet promised to a submitted job


def _worker() -> None:
    global _idle
    while True:
        try:
            job = _work.get(timeout=IDLE_SECONDS)
        except queue.Empty:
            with _lock:
                if _idle > 0:  # nobody is counting on this worker: let it go
                    _idle -= 1
                    return
            continue
        try:
            job()
        finally:
            with _lock:
                _idle += 1


def submit(job: Callable[[], None]) -> None:
    """Run ``job`` on an idle worker, starting a new one when none is idle."""
    global _idle
    with _lock:
        spawn = _idle == 0
        if not spawn:
            _idle -= 1
    _work.put(job)
    if spawn:
        threading.Thread(target=_worker, name="ail-worker", daemon=True).start()
