"""Human gates: a run waits for an answer from whichever front end is watching."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ail_tui.cancel import CancelToken


@dataclass
class GateAnswer:
    """Approve or reject a gate; for modify_output, the edited text."""

    approved: bool = True
    text: str | None = None


@dataclass
class _Pending:
    answered: threading.Event = field(default_factory=threading.Event)
    answer: GateAnswer | None = None


class Gates:
    """Pending gates of a run, keyed by step id. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}

    def open(self, step_id: str) -> None:
        """Register a gate before announcing it, so an early answer is not lost."""
        with self._lock:
            self._pending.setdefault(step_id, _Pending())

    def wait(self, step_id: str, cancel: CancelToken) -> GateAnswer | None:
        """Block until the gate is answered (None if the run is cancelled first)."""
        with self._lock:
            pending = self._pending.setdefault(step_id, _Pending())
        while not pending.answered.wait(0.1):
            if cancel.cancelled:
                return None
        with self._lock:
            self._pending.pop(step_id, None)
        return pending.answer

    def answer(self, step_id: str, answer: GateAnswer) -> bool:
        """Answer a pending gate; returns False when no such gate is waiting."""
        with self._lock:
            pending = self._pending.get(step_id)
        if pending is None:
            return False
        pending.answer = answer
        pending.answered.set()
        return True

    def waiting(self) -> list[str]:
        """Step ids of gates waiting for an answer."""
        with self._lock:
            return list(self._pending)
