"""Garbage collection while a pipeline runs: no full collections until it ends.

A run of hundreds of branches keeps many objects alive; every full (generation 2)
collection then walks all of them while holding the interpreter lock, a pause of
20–300 ms that lands on a step on the critical path or on the dashboard's frame. While
any run is live only the young generations are collected; the full collection waits
until the last run is over.
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
