"""Cancellation tokens: a flag, a reason, and the kill actions to run when set."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cancellation:
    """Why something was cancelled and by whom (``user``, ``fail_fast``, ``run``, ...)."""

    by: str
    reason: str


class CancelToken:
    """A thread-safe cancel flag with callbacks; children are cancelled with their parent."""

    def __init__(self, parent: CancelToken | None = None) -> None:
        self._set = False
        self._event: threading.Event | None = None  # made by the first wait()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        self.cancellation: Cancellation | None = None
        if parent is not None:
            parent.on_cancel(self._follow(parent))

    def _follow(self, parent: CancelToken) -> Callable[[], None]:
        def cancel_with_parent() -> None:
            self.cancel(parent.cancellation or Cancellation("run", ""))

        return cancel_with_parent

    @property
    def cancelled(self) -> bool:
        """Whether cancel() has been called."""
        return self._set

    def cancel(self, why: Cancellation) -> bool:
        """Set the flag and run the callbacks once; returns False if already cancelled."""
        with self._lock:
            if self._set:
                return False
            self.cancellation = why
            self._set = True
            if self._event is not None:
                self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()
        return True

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` when cancelled (at once if already); returns an unregister function."""
        with self._lock:
            if not self._set:
                self._callbacks.append(callback)

                def remove() -> None:
                    with self._lock:
                        if callback in self._callbacks:
                            self._callbacks.remove(callback)

                return remove
        callback()
        return lambda: None

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to ``timeout`` seconds or until cancelled; returns whether cancelled."""
        with self._lock:
            if self._set:
                return True
            if self._event is None:
                self._event = threading.Event()
            event = self._event
        return event.wait(timeout)
