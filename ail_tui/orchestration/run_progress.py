"""What ``ps`` says of a live run: its state, its steps' counts, what waits for a person."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from ail_tui.engine import events as ev

_STATE_OF: dict[type[ev.Event], str] = {
    ev.StepQueued: "queued", ev.StepStarted: "running", ev.StepCompleted: "done",
    ev.StepFailed: "failed", ev.StepErrorContinued: "failed", ev.StepCancelled: "cancelled",
    ev.StepSkipped: "skipped", ev.StepRetrying: "running",
}


class RunProgress:
    """Follows a run's events (as a subscriber) and sums them up. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: dict[str, str] = {}
        self._gates: dict[str, str] = {}  # step id -> "gate" | "modify"
        self._permissions: set[str] = set()
        self._paused = False
        self._ended: str | None = None

    def __call__(self, event: ev.Event) -> None:
        """Take one event of the run."""
        kind = type(event)
        with self._lock:
            state = _STATE_OF.get(kind)
            step_id = getattr(event, "step_id", None)
            if state is not None and isinstance(step_id, str):
                self._steps[step_id] = state
                self._gates.pop(step_id, None)
            elif isinstance(event, ev.HitlGateReached):
                self._gates[event.step_id] = "gate"
            elif isinstance(event, ev.HitlModifyReached):
                self._gates[event.step_id] = "modify"
            elif isinstance(event, ev.PermissionRequested):
                self._permissions.add(event.request_id)
            elif isinstance(event, ev.PermissionAnswered):
                self._permissions.discard(event.request_id)
            elif isinstance(event, ev.RunPaused | ev.RunResumed):
                self._paused = isinstance(event, ev.RunPaused)
            elif isinstance(event, ev.PipelineCompleted):
                self._ended = event.outcome
            elif isinstance(event, ev.PipelineError):
                self._ended = event.status

    def asks(self, request_id: str) -> bool:
        """Whether tool-use permission request ``request_id`` waits for a decision."""
        with self._lock:
            return request_id in self._permissions

    def snapshot(self) -> dict[str, Any]:
        """``{"status", "steps": {state: count}, "gates": [step ids], "permissions": n}``.

        ``status`` is ``running``, ``paused``, ``waiting`` (a gate or a permission waits
        for a person) or how the run ended.
        """
        with self._lock:
            if self._ended is not None:
                status = self._ended
            elif self._gates or self._permissions:
                status = "waiting"
            else:
                status = "paused" if self._paused else "running"
            return {"status": status, "steps": dict(Counter(self._steps.values())),
                    "gates": sorted(self._gates), "permissions": len(self._permissions)}
