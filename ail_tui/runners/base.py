"""The runner protocol: one request in, streamed runner events, one result out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ail_tui.cancel import CancelToken
from ail_tui.runners.permissions import PermissionAsker


@dataclass(frozen=True)
class ToolPolicyOptions:
    """The resolved tool policy of a step (brief §12)."""

    mode: str = "runner_default"  # no_tools | allowlist | denylist | mixed | runner_default
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunnerRequest:
    """Everything a runner needs for one prompt."""

    step_id: str
    prompt: str
    model: str | None = None
    resume_session_id: str | None = None
    system_prompt: str | None = None
    append_system_prompts: tuple[str, ...] = ()
    tools: ToolPolicyOptions = field(default_factory=ToolPolicyOptions)
    sampling: dict[str, Any] = field(default_factory=dict)
    output_schema: Any = None
    base_url: str | None = None
    auth_token: str | None = None
    headless: bool = True
    connect_timeout_seconds: float | None = None
    read_timeout_seconds: float | None = None
    max_history_messages: int | None = None
    input_cost_per_1k: float | None = None
    output_cost_per_1k: float | None = None
    cwd: str | None = None
    permissions: PermissionAsker | None = None
    """Who answers tool-use permission requests when not headless (None: nobody)."""


@dataclass
class RunnerResult:
    """What a runner returns for one prompt."""

    response: str
    cost_usd: float | None = None
    session_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    thinking: str | None = None
    model: str | None = None
    tool_events: list[dict[str, Any]] = field(default_factory=list)
    reconciled: bool = False
    """Recovered by the step's ``reconcile`` command after its attempt was lost (D3)."""


def completed_event(result: RunnerResult) -> dict[str, Any]:
    """The ``completed`` runner event that ends every successful invocation (brief §12)."""
    return {
        "type": "completed",
        "response": result.response,
        "cost_usd": result.cost_usd,
        "session_id": result.session_id,
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "thinking": result.thinking,
        "model": result.model,
        "tool_events": list(result.tool_events),
    }


class RunnerError(Exception):
    """A runner failure with its stable ``error_type``."""

    def __init__(self, error_type: str, detail: str) -> None:
        super().__init__(detail)
        self.error_type = error_type
        self.detail = detail


RunnerEventSink = Callable[[dict[str, Any]], None]
"""Receives runner events as brief §10 dicts: ``{"type": "stream_delta", "text": ...}``."""


class Runner(Protocol):
    """Sends one prompt; streams events to ``emit``; honours ``cancel``."""

    name: str

    def invoke(
        self, request: RunnerRequest, emit: RunnerEventSink, cancel: CancelToken
    ) -> RunnerResult:
        """Run the prompt; raise :class:`RunnerError` on failure or cancellation."""
        ...
