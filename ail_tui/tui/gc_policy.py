"""Garbage collection while a run streams: no full collections until it ends.

A run of hundreds of branches keeps many objects alive; every full (generation 2)
collection then walks all of them on the interface thread, a pause of 100–300 ms in
the middle of an event storm. While a run is live only the young generations are
collected; the full collection waits until the run is over.
"""

from __future__ import annotations

import gc

_DEFERRED = 10**9  # generation-1 collections before a full one: never, in practice
_saved: tuple[int, int, int] | None = None


def defer_full_collections() -> None:
    """Collect only the young generations from now on (until :func:`resume_full_collections`)."""
    global _saved
    if _saved is None:
        _saved = gc.get_threshold()
        gc.set_threshold(_saved[0], _saved[1], _DEFERRED)


def resume_full_collections() -> None:
    """Restore the usual thresholds; the next full collection happens as it normally would."""
    global _saved
    if _saved is not None:
        gc.set_threshold(*_saved)
        _saved = None
