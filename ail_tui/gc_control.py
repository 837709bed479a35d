"""Garbage-collector settings for a long-lived process that loads and runs pipelines.

Building or running something large keeps many objects alive, and every full
(generation 2) collection walks all of them while holding the interpreter lock: a pause
of 20–300 ms that lands on a step on the critical path or on the dashboard's frame.

- :func:`gc_paused`: no automatic collection while a document is turned into objects
  (tens of thousands of small objects that repeated full collections would find nothing
  to free in);
- :func:`full_collections_deferred`: while a pipeline runs, only the young generations
  are collected; the full collection waits until the last run is over;
- :func:`set_aside_startup_objects`: a front end keeps the objects it made at start-up
  (modules, widgets), which live as long as it does, out of every later collection.

The first two hold while any thread is inside them, however they nest.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

_DEFERRED = 10**9  # generation-1 collections before a full one: never, in practice


class _Shared:
    """A process-wide change that holds while any thread is inside :meth:`held`.

    ``apply`` makes the change and returns the function that undoes it.
    """

    def __init__(self, apply: Callable[[], Callable[[], None]]) -> None:
        self._apply = apply
        self._lock = threading.Lock()
        self._holders = 0
        self._undo: Callable[[], None] | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._undo = self._apply()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._undo is not None:
                    self._undo()
                    self._undo = None


def _disable() -> Callable[[], None]:
    was_enabled = gc.isenabled()
    gc.disable()
    return gc.enable if was_enabled else (lambda: None)


def _defer_full() -> Callable[[], None]:
    saved = gc.get_threshold()
    gc.set_threshold(saved[0], saved[1], _DEFERRED)
    return lambda: gc.set_threshold(*saved)


_paused = _Shared(_disable)
_deferred = _Shared(_defer_full)


def gc_paused() -> AbstractContextManager[None]:
    """Disable automatic collection inside the block."""
    return _paused.held()


def full_collections_deferred() -> AbstractContextManager[None]:
    """Collect only the young generations inside the block."""
    return _deferred.held()


def set_aside_startup_objects() -> None:
    """Collect once, then keep today's objects out of every later collection."""
    gc.collect()
    gc.freeze()


def bring_back_startup_objects() -> None:
    """Undo :func:`set_aside_startup_objects` (when the front end closes)."""
    gc.unfreeze()
