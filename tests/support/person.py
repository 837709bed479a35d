"""A stand-in for the person who answers a run's tool permission requests."""

from __future__ import annotations

import threading

from ail_tui.runners.permissions import PermissionDecision, PermissionRequest


class Person:
    """An asker answering in turn (deny once the answers run out), recording each request."""

    def __init__(self, *decisions: PermissionDecision) -> None:
        self.decisions = list(decisions)
        self.asked: list[PermissionRequest] = []
        self.lock = threading.Lock()

    def __call__(self, request: PermissionRequest) -> PermissionDecision:
        with self.lock:
            self.asked.append(request)
            return self.decisions.pop(0) if self.decisions else PermissionDecision(False)
