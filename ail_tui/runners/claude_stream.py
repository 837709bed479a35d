"""Parsing the claude CLI's ``--output-format stream-json`` stdout, one line at a time.

Each line is one JSON object. ``assistant`` lines carry text, thinking and tool-use blocks,
``user`` lines carry tool results, and the final ``result`` line carries the answer, cost,
session id and usage. Other line types (``system`` and so on) are ignored.
"""

from __future__ import annotations

import json
from typing import Any

from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import RunnerError, RunnerEventSink, RunnerResult

LINE_PREVIEW_CHARS = 200


def compact_json(value: Any) -> str:
    """``value`` as compact JSON, non-ASCII kept as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _number(value: Any) -> float | None:
    """``value`` when it is a JSON number, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _count(value: Any) -> int:
    """A token count from the stream, or 0 when absent or not a number."""
    number = _number(value)
    return 0 if number is None else int(number)


def _blocks(message: Any) -> list[dict[str, Any]]:
    """The dict content blocks of a ``message`` object."""
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return []
    return [block for block in content if isinstance(block, dict)]


class ClaudeStreamParser:
    """Turns stream-json lines into runner events and, at the ``result`` line, a result."""

    def __init__(self, emit: RunnerEventSink) -> None:
        self._emit = emit
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._tool_events: list[dict[str, Any]] = []
        self._input_tokens = 0
        self._output_tokens = 0
        self.result: RunnerResult | None = None

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
        if kind == "assistant":
            self._assistant(data.get("message"))
        elif kind == "user":
            self._user(data.get("message"))
        elif kind == "result":
            self.result = self._result(data)
            return True
        return False

    def _assistant(self, message: Any) -> None:
        for block in _blocks(message):
            kind = block.get("type")
            if kind == "text":
                text = block.get("text")
                if isinstance(text, str) and text:
                    self._text.append(text)
                    self._emit({"type": "stream_delta", "text": text})
            elif kind == "thinking":
                thought = block.get("thinking")
                if isinstance(thought, str) and thought:
                    self._thinking.append(thought)
                    self._emit({"type": "thinking", "text": thought})
            elif kind == "tool_use":
                self._tool_use(block)
        usage = message.get("usage") if isinstance(message, dict) else None
        if isinstance(usage, dict):
            self._input_tokens += _count(usage.get("input_tokens"))
            self._output_tokens += _count(usage.get("output_tokens"))

    def _tool_use(self, block: dict[str, Any]) -> None:
        name = str(block.get("name") or "")
        tool_id = str(block.get("id") or "")
        payload = block.get("input")
        arguments = "{}" if payload is None else compact_json(payload)
        self._tool_events.append({"event_type": "tool_call", "tool_name": name,
                                  "tool_id": tool_id, "content_json": arguments})
        self._emit({"type": "tool_use", "tool_name": name, "tool_id": tool_id,
                    "input": arguments})

    def _user(self, message: Any) -> None:
        for block in _blocks(message):
            if block.get("type") != "tool_result":
                continue
            tool_id = str(block.get("tool_use_id") or "")
            content = block.get("content")
            text = content if isinstance(content, str) else compact_json(content)
            self._tool_events.append({"event_type": "tool_result", "tool_name": "",
                                      "tool_id": tool_id, "content_json": text})
            self._emit({"type": "tool_result", "tool_id": tool_id, "content": text})

    def _result(self, data: dict[str, Any]) -> RunnerResult:
        answer = data.get("result")
        if data.get("subtype") == "error" or data.get("is_error") is True:
            detail = answer if isinstance(answer, str) and answer else (
                f"claude CLI reported an error (subtype: {data.get('subtype')})")
            raise RunnerError(ErrorType.RUNNER_INVOCATION_FAILED, detail)
        usage = data.get("usage")
        if isinstance(usage, dict):
            self._input_tokens = max(self._input_tokens, _count(usage.get("input_tokens")))
            self._output_tokens = max(self._output_tokens, _count(usage.get("output_tokens")))
        session = data.get("session_id")
        model = data.get("model")
        return RunnerResult(
            response=answer if isinstance(answer, str) else "".join(self._text),
            cost_usd=_number(data.get("total_cost_usd")),
            session_id=session if isinstance(session, str) else None,
            input_tokens=self._input_tokens,
            output_tokens=self._output_tokens,
            thinking="\n".join(self._thinking) or None,
            model=model if isinstance(model, str) and model else None,
            tool_events=list(self._tool_events),
        )
