"""Parsing the claude CLI's ``--output-format stream-json`` stdout, one line at a time.

Each line is one JSON object. ``system/init`` names the model; ``assistant`` lines carry
one content block each (text, thinking, tool use), repeating their message's ``usage``;
``user`` lines carry tool results; lines with a ``parent_tool_use_id`` come from a
sub-agent and are filed under that tool call; ``system/permission_denied`` marks a call
the CLI refused. ``system/api_retry``, ``tool_progress``, ``system/status``,
``compact_boundary`` and ``rate_limit_event`` become small runner events. The final
``result`` line carries the answer, cost, session id and the run's token totals; a failed
one becomes a :class:`RunnerError` (:mod:`claude_errors`).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import RunnerError, RunnerEventSink, RunnerResult
from ail_tui.runners.claude_errors import (
    FailureSignals,
    one_line,
    result_failure,
    status_code,
)
from ail_tui.runners.claude_tools import ToolEvents

LINE_PREVIEW_CHARS = 200
SYNTHETIC_MODEL = "<synthetic>"
"""The model name of messages the CLI writes itself (errors such as "Not logged in")."""


def _number(value: Any) -> float | None:
    """``value`` when it is a JSON number, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _count(value: Any) -> int:
    """A token count from the stream, or 0 when absent or not a number."""
    number = _number(value)
    return 0 if number is None else int(number)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _blocks(message: Any) -> list[dict[str, Any]]:
    """The dict content blocks of a ``message`` object."""
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return []
    return [block for block in content if isinstance(block, dict)]


def retry_event(data: dict[str, Any]) -> dict[str, Any]:
    """The ``retry`` runner event for a ``system/api_retry`` line."""
    status = status_code(data.get("error_status"))
    error = _text(data.get("error"))
    reason = " ".join(part for part in (f"HTTP {status}" if status else None, error) if part)
    return {"type": "retry", "attempt": _count(data.get("attempt")),
            "max_retries": _count(data.get("max_retries")),
            "delay_s": round((_number(data.get("retry_delay_ms")) or 0.0) / 1000, 1),
            "status": status, "reason": reason or "no response"}


def info_event(data: dict[str, Any]) -> dict[str, Any] | None:
    """A small ``info`` runner event for status, compaction and rate-limit lines."""
    kind = data.get("type")
    subtype = data.get("subtype")
    if kind == "system" and subtype == "status":
        status = _text(data.get("status"))
        return {"type": "info", "kind": "status",
                "message": f"claude is {status}" if status else "claude is working"}
    if kind == "system" and subtype == "compact_boundary":
        meta = data.get("compact_metadata")
        meta = meta if isinstance(meta, dict) else {}
        return {"type": "info", "kind": "compact_boundary", "message": (
            f"conversation compacted ({meta.get('trigger') or '?'}, "
            f"{_count(meta.get('pre_tokens'))} tokens before)")}
    if kind == "rate_limit_event":
        info = data.get("rate_limit_info")
        info = info if isinstance(info, dict) else {}
        window = _text(info.get("rateLimitType"))
        return {"type": "info", "kind": "rate_limit", "message": (
            f"rate limit {info.get('status') or '?'}" + (f" ({window})" if window else ""))}
    return None


class ClaudeStreamParser:
    """Turns stream-json lines into runner events and, at the ``result`` line, a result."""

    def __init__(self, emit: RunnerEventSink, denied_by_person: Collection[str] = ()) -> None:
        self.emit = emit
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._tools = ToolEvents(emit, denied_by_person)
        self._usage: dict[str, tuple[int, int]] = {}  # by message id: the latest seen
        self._model: str | None = None
        self.signals = FailureSignals()
        self.result: RunnerResult | None = None
        self.more_results = False
        """Whether the CLI reports again after the last ``result`` (background sub-agents:
        it answers their notifications in new turns, each ending in a result)."""

    def feed(self, line: str) -> bool:
        """Handle one stdout line; returns True once the ``result`` line has been read.

        Raises :class:`RunnerError` for a line that is not JSON or an error result.
        """
        line = line.strip()
        if not line:
            return False
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RunnerError(
                ErrorType.RUNNER_INVOCATION_FAILED,
                f"Malformed JSON from claude CLI: {exc}; line: {line[:LINE_PREVIEW_CHARS]}",
            ) from None
        if not isinstance(data, dict):
            return False
        kind = data.get("type")
        parent = _text(data.get("parent_tool_use_id"))
        if kind == "assistant":
            self._assistant(data, parent)
        elif kind == "user":
            for block in _blocks(data.get("message")):
                if block.get("type") == "tool_result":
                    self._tools.result(block, parent)
        elif kind == "system" and data.get("subtype") == "init":
            self._model = _text(data.get("model")) or self._model
        elif kind == "system" and data.get("subtype") == "api_retry":
            retry = retry_event(data)
            self.signals.retry_status = retry["status"]
            self.emit(retry)
        elif kind == "system" and data.get("subtype") == "permission_denied":
            self._tools.deny(data.get("tool_use_id"))
        elif kind == "tool_progress":
            self.emit({"type": "tool_progress", "tool_id": str(data.get("tool_use_id") or ""),
                        "tool_name": str(data.get("tool_name") or ""),
                        "elapsed_s": _number(data.get("elapsed_time_seconds")) or 0.0,
                        **({"parent_tool_id": parent} if parent else {})})
        elif kind == "error":
            error = data.get("error")
            message = error.get("message") if isinstance(error, dict) else error
            self.signals.error_line = one_line(str(message or line))
        elif kind == "result":
            self.result = self._result(data, self.result)
            self.more_results = _background_work(data)
            return True
        elif (event := info_event(data)) is not None:
            self.emit(event)
        return False

    def _assistant(self, data: dict[str, Any], parent: str | None) -> None:
        message = data.get("message")
        message = message if isinstance(message, dict) else {}
        model = _text(message.get("model"))
        if _text(data.get("error")) or model == SYNTHETIC_MODEL:
            # The CLI's own words ("Not logged in · Please run /login"), not the model's.
            self.signals.assistant_error = _text(data.get("error"))
            self.signals.synthetic_text += [
                block["text"] for block in _blocks(message)
                if block.get("type") == "text" and _text(block.get("text"))]
            return
        self.signals.retry_status = None  # the API answered: earlier retries are over
        if model and not parent:
            self._model = model
        self._count_usage(message)
        for block in _blocks(message):
            kind = block.get("type")
            text = _text(block.get("text")) if kind == "text" else None
            if text and parent:
                self._tools.subagent_text(text, parent)
            elif text:
                self._text.append(text)
                self.emit({"type": "stream_delta", "text": text})
            elif kind == "thinking" and not parent and (thought := _text(block.get("thinking"))):
                self._thinking.append(thought)
                self.emit({"type": "thinking", "text": thought})
            elif kind == "tool_use":
                self._tools.call(block, parent)

    def _count_usage(self, message: dict[str, Any]) -> None:
        """Usage per message id (each content block repeats it); live totals as events."""
        usage = message.get("usage")
        if not isinstance(usage, dict):
            return
        before = self._totals()
        key = _text(message.get("id")) or f"#{len(self._usage)}"
        self._usage[key] = (_count(usage.get("input_tokens")),
                            _count(usage.get("output_tokens")))
        totals = self._totals()
        if totals != before:
            self.emit({"type": "usage", "input_tokens": totals[0],
                        "output_tokens": totals[1]})

    def _totals(self) -> tuple[int, int]:
        return (sum(pair[0] for pair in self._usage.values()),
                sum(pair[1] for pair in self._usage.values()))

    def _result(self, data: dict[str, Any], before: RunnerResult | None) -> RunnerResult:
        """The step's result as of this ``result`` line: its answer and cost (the cost is
        the CLI's running total), with the tokens of every turn so far."""
        subtype = data.get("subtype")
        if data.get("is_error") is True or subtype not in (None, "success"):
            raise result_failure(data, self.signals)
        self._tools.denied(data.get("permission_denials"))
        usage = data.get("usage")
        tokens = ((_count(usage.get("input_tokens")), _count(usage.get("output_tokens")))
                  if isinstance(usage, dict) else self._totals())
        if before is not None and isinstance(usage, dict):  # usage is the turn's own
            tokens = (before.input_tokens + tokens[0], before.output_tokens + tokens[1])
        answer = data.get("result")
        session = data.get("session_id")
        return RunnerResult(
            response=answer if isinstance(answer, str) else "".join(self._text),  # the last
            cost_usd=_number(data.get("total_cost_usd")),
            session_id=session if isinstance(session, str) else None,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            thinking="\n".join(self._thinking) or None,
            model=_text(data.get("model")) or self._model,
            tool_events=list(self._tools.events),
        )


def _background_work(result: dict[str, Any]) -> bool:
    """Whether the run behind a ``result`` line started sub-agents in the background."""
    stats = result.get("subagent_stats")
    return isinstance(stats, dict) and _count(stats.get("started_in_background")) > 0
