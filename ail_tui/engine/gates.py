"""Human gates and permission requests: a run waits for an answer from whichever front end
is watching."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ail_tui.cancel import CancelToken


@dataclass
class GateAnswer:
    """Approve or reject a gate; for modify_output, the edited text."""

    approved: bool = True
    text: str | None = None


Answer = TypeVar("Answer")


@dataclass
class _Pending(Generic[Answer]):
    answered: threading.Event = field(default_factory=threading.Event)
    answer: Answer | None = None


class Gates(Generic[Answer]):
    """Questions of a run waiting for an answer, keyed by id (a gate's step id). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending[Answer]] = {}

    def open(self, key: str) -> None:
        """Register a question before announcing it, so an early answer is not lost."""
        with self._lock:
            self._pending.setdefault(key, _Pending())

    def wait(self, key: str, cancel: CancelToken) -> Answer | None:
        """Block until the question is answered (None if the run is cancelled first)."""
        with self._lock:
            pending = self._pending.setdefault(key, _Pending())
        while not pending.answered.wait(0.1):
            if cancel.cancelled:
                return None
        with self._lock:
            self._pending.pop(key, None)
        return pending.answer

    def answer(self, key: str, answer: Answer) -> bool:
        """Answer a pending question; returns False when no such question is waiting (or
        it was answered already)."""
        with self._lock:
            pending = self._pending.get(key)
            if pending is None or pending.answered.is_set():
                return False  # the first answer wins (two viewers may answer at once)
            pending.answer = answer
            pending.answered.set()
        return True

    def waiting(self) -> list[str]:
        """Ids of the questions waiting for an answer."""
        with self._lock:
            return list(self._pending)
