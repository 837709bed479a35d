"""Step bodies handed straight to the driver that waits for them, when both run in the
same worker process (the usual case: a worker starts the activities its own workflow
tasks schedule, eagerly).

Such a body gives its output and its outcome to the waiting driver itself, at once (and
asks its tool-use permission requests of the driver's run directly),
instead of sending them to the workflow and the driver reading them back: a step costs
one workflow task less, and streaming output costs none. The body still returns its
outcome to the workflow, marked ``delivered``, so a driver started again elsewhere knows
it was seen.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from ail_tui.orchestration.temporal.messages import BodyOutcome
from ail_tui.runners.permissions import PermissionDecision, PermissionRequest


class Waiter(Protocol):
    """What a driver waits on for one body."""

    def item(self, item: dict[str, Any]) -> None:
        """A piece of the body's output (a runner event, or a ``{stream, text}`` line)."""

    def finish(self, outcome: BodyOutcome) -> None:
        """The body's outcome (its ``items`` are delivered first)."""

    def ask(self, request: PermissionRequest) -> PermissionDecision:
        """A person's decision on a tool use of the body (blocks until made)."""


class Handoff:
    """The bodies this process's drivers wait for, by workflow id and body ref."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[tuple[str, str], Waiter] = {}

    def expect(self, workflow_id: str, ref: str, waiter: Waiter) -> None:
        """A driver of ``workflow_id`` waits for body ``ref``."""
        with self._lock:
            self._waiting[(workflow_id, ref)] = waiter

    def forget(self, workflow_id: str, ref: str) -> None:
        """The driver no longer waits for body ``ref``."""
        with self._lock:
            self._waiting.pop((workflow_id, ref), None)

    def claim(self, workflow_id: str, ref: str) -> Waiter | None:
        """The waiter of body ``ref`` (None: its driver is in another process)."""
        with self._lock:
            return self._waiting.pop((workflow_id, ref), None)
