"""The stub runner: canned responses, delays, errors and streamed chunks, fully offline.

``--stub-script FILE`` (decisions.md) gives per-step behaviour::

    default: {response: "ok", delay: 0.05}
    steps:
      lint: {response: "No issues found.", delay: 1.5, chunks: 10}
      test: {delay: 2.0, error: "Runner exited with code 1"}
      edit: {asks: [Write]}   # asks the person before "using" Write (when the run asks)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from ail_tui.cancel import CancelToken
from ail_tui.files import FileReadError, read_text_file
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.source import YamlSyntaxError, parse_yaml
from ail_tui.runners.base import (
    RunnerError,
    RunnerEventSink,
    RunnerRequest,
    RunnerResult,
    completed_event,
)
from ail_tui.runners.permissions import DENIED_BY_PERSON, PermissionDecision, PermissionRequest

DEFAULT_RESPONSE = "stub response"
SESSION_ID = "stub-session-id"


class StubBehaviour(BaseModel):
    """How the stub answers one step; unset fields fall back to the script's default."""

    model_config = ConfigDict(extra="forbid")

    response: str | None = None
    delay: float | None = Field(default=None, ge=0)
    chunks: int | None = Field(default=None, ge=1)
    error: str | None = None
    input_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=0)
    cost_usd: float | None = Field(default=None, ge=0)
    asks: list[str] | None = None
    """Tools the step uses, each asked of the person first when the run asks (the
    dashboard, a detached run); a denied one ends as a refused tool result."""


class StubScript(BaseModel):
    """A whole ``--stub-script`` file."""

    model_config = ConfigDict(extra="forbid")

    default: StubBehaviour = Field(default_factory=StubBehaviour)
    steps: dict[str, StubBehaviour] = Field(default_factory=dict)
    _plans: dict[tuple[str, str], _Plan] = PrivateAttr(default_factory=dict)
    """Each step's plan, worked out once (a script never changes)."""

    def for_step(self, step_id: str) -> StubScript:
        """The part of this script that step ``step_id`` reads (its default and its
        entries), for a runner that answers that step alone."""
        names = (step_id, step_id.rsplit("::", 1)[-1])
        return StubScript(default=self.default,
                          steps={name: self.steps[name] for name in names
                                 if name in self.steps})


_NOTHING = StubBehaviour()
_NO_SCRIPT = StubScript()  # never changed: one for every runner made without a script


class StubScriptError(ValueError):
    """A stub script that cannot be used."""


def load_stub_script(path: str | Path) -> StubScript:
    """Read and check a stub script; raise :class:`StubScriptError` with a clear message."""
    try:
        data = parse_yaml(read_text_file(path, what="stub scripts"), str(path)) or {}
    except FileReadError as exc:
        raise StubScriptError(f"cannot read stub script '{path}': {exc}") from None
    except YamlSyntaxError as exc:
        where = f" (line {exc.position.line}, column {exc.position.column})" if (
            exc.position) else ""
        raise StubScriptError(f"stub script '{path}' is not valid YAML{where}: {exc}") from None
    try:
        return StubScript.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StubScriptError(f"stub script '{path}': {where}: {first['msg']}") from None


@dataclass(frozen=True)
class _Plan:
    response: str
    delay: float
    pieces: tuple[str, ...]
    """The response cut into the chunks it streams in (none when the step fails)."""
    error: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    asks: tuple[str, ...]


class StubRunner:
    """Answers prompts offline, through the same protocol and cancellation as real runners."""

    name = "stub"

    def __init__(self, response: str = DEFAULT_RESPONSE, script: StubScript | None = None):
        self.response = response
        self.script = script or _NO_SCRIPT

    def plan_for(self, step_id: str) -> _Plan:
        """The behaviour for ``step_id`` (exact id, then its last ``::`` segment)."""
        # The private dict itself: ``script._plans`` goes through pydantic's __getattr__,
        # which costs more than the rest of a zero-delay step's answer.
        plans: dict[tuple[str, str], _Plan] = self.script.__pydantic_private__[  # type: ignore[index]
            "_plans"]
        plan = plans.get((step_id, self.response))
        if plan is None:
            plan = plans[(step_id, self.response)] = self._plan(step_id)
        return plan

    def _plan(self, step_id: str) -> _Plan:
        steps = self.script.steps
        own = steps.get(step_id) or steps.get(step_id.rsplit("::", 1)[-1]) or _NOTHING
        base = self.script.default

        def pick(name: str, fallback: Any) -> Any:
            value = getattr(own, name)
            if value is None:
                value = getattr(base, name)
            return fallback if value is None else value

        response, error = pick("response", self.response), pick("error", None)
        return _Plan(
            response=response,
            delay=float(pick("delay", 0.0)),
            pieces=_split(response, int(pick("chunks", 1))) if error is None else (),
            error=error,
            input_tokens=int(pick("input_tokens", 0)),
            output_tokens=int(pick("output_tokens", 0)),
            cost_usd=float(pick("cost_usd", 0.0)),
            asks=tuple(pick("asks", ())),
        )

    def invoke(
        self, request: RunnerRequest, emit: RunnerEventSink, cancel: CancelToken
    ) -> RunnerResult:
        """Wait out the delay (streaming chunks across it), then answer or fail."""
        plan = self.plan_for(request.step_id)
        for number, tool in enumerate(plan.asks):
            _use_tool(request, tool, f"stub-{request.step_id}-{number}", emit)
        pieces = plan.pieces
        slices = max(len(pieces), 1)
        for index in range(slices):
            stop = cancel.wait(plan.delay / slices) if plan.delay > 0 else cancel.cancelled
            if stop:
                raise RunnerError(ErrorType.RUNNER_CANCELLED, "Stub runner cancelled")
            if index < len(pieces) and len(pieces) > 1:
                emit({"type": "stream_delta", "text": pieces[index]})
        if cancel.cancelled:
            raise RunnerError(ErrorType.RUNNER_CANCELLED, "Stub runner cancelled")
        if plan.error is not None:
            raise RunnerError(ErrorType.RUNNER_INVOCATION_FAILED, plan.error)
        result = RunnerResult(
            response=plan.response,
            cost_usd=plan.cost_usd,
            session_id=SESSION_ID,
            input_tokens=plan.input_tokens,
            output_tokens=plan.output_tokens,
        )
        emit(completed_event(result))
        return result


def _use_tool(request: RunnerRequest, tool: str, tool_id: str, emit: RunnerEventSink) -> None:
    """Use ``tool`` as a model would: asked of the person first when the run asks."""
    emit({"type": "tool_use", "tool_name": tool, "tool_id": tool_id, "input": "{}"})
    decision = (request.permissions(PermissionRequest(request.step_id, tool, {}, tool_id))
                if request.permissions is not None else PermissionDecision(allow=True))
    if decision.allow:
        emit({"type": "tool_result", "tool_id": tool_id, "content": "done"})
    else:
        emit({"type": "tool_result", "tool_id": tool_id, "is_error": True,
              "content": decision.reason or DENIED_BY_PERSON})


def _split(text: str, chunks: int) -> tuple[str, ...]:
    """``text`` cut into at most ``chunks`` non-empty pieces of near-equal length."""
    if chunks <= 1 or len(text) <= 1:
        return (text,)
    size = math.ceil(len(text) / chunks)
    return tuple(text[i : i + size] for i in range(0, len(text), size))
