"""Garbage collection for a long-lived process that runs pipelines.

A run of hundreds of branches keeps many objects alive; every full (generation 2)
collection then walks all of them while holding the interpreter lock, a pause of
20–300 ms that lands on a step on the critical path or on the dashboard's frame. So:

- while any run is live only the young generations are collected; the full collection
  waits until the last run is over;
- a front end can set aside the objects it made at start-up (modules, widgets), which
  live as long as it does, so that full collections no longer walk them.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_DEFERRED = 10**9  # generation-1 collections before a full one: never, in practice
_lock = threading.Lock()
_runs = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def full_collections_deferred() -> Iterator[None]:
    """Collect only the young generations inside the block (nesting and threads are safe)."""
    global _runs, _saved
    with _lock:
        if _runs == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(_saved[0], _saved[1], _DEFERRED)
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None


def set_aside_startup_objects() -> None:
    """Collect once, then keep today's objects out of every later collection."""
    gc.collect()
    gc.freeze()


def bring_back_startup_objects() -> None:
    """Undo :func:`set_aside_startup_objects` (when the front end closes)."""
    gc.unfreeze()
