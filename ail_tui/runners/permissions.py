"""Tool-use permission requests: what a runner asks, and the person's decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DENIED_BY_PERSON = "Denied by the person supervising the ail-tui run"


@dataclass(frozen=True)
class PermissionRequest:
    """A tool use that needs the person's permission before it runs."""

    step_id: str
    tool_name: str
    input: dict[str, Any] = field(default_factory=dict)
    tool_use_id: str | None = None


@dataclass(frozen=True)
class PermissionDecision:
    """Allow once, allow the tool for the rest of the step, or deny with a reason."""

    allow: bool
    for_step: bool = False
    reason: str = ""

    @property
    def scope(self) -> str:
        """``once``, ``step`` or ``deny``: the decision in one word."""
        return "deny" if not self.allow else "step" if self.for_step else "once"

    def answer(self, tool_input: dict[str, Any]) -> dict[str, Any]:
        """The answer the Claude CLI's permission prompt tool expects."""
        if self.allow:
            return {"behavior": "allow", "updatedInput": tool_input}
        return {"behavior": "deny", "message": self.reason or DENIED_BY_PERSON}


PermissionAsker = Callable[[PermissionRequest], PermissionDecision]
"""Blocks until the person decides (a deny when the run is cancelled meanwhile)."""
