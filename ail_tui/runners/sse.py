"""Reading OpenAI-compatible chat replies: SSE ``data:`` payloads, stream chunks, JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

DONE = "[DONE]"
THINKING_KEYS = ("reasoning_content", "reasoning", "thinking")


class ReplyError(Exception):
    """A reply that cannot be used; the message is the runner's error detail."""


def iter_sse_data(lines: Iterable[str]) -> Iterator[str]:
    """The payload of each ``data:`` line; comments, blank lines and other fields are skipped."""
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or name != "data":
            continue
        yield value[1:] if value.startswith(" ") else value


def parse_json(text: str | bytes) -> dict[str, Any]:
    """A JSON object from a reply body or chunk; an ``error`` object in it is raised."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReplyError(f"HttpRunner: failed to parse response JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ReplyError(
            f"HttpRunner: failed to parse response JSON: expected an object, got "
            f"{type(data).__name__}"
        )
    if data.get("error"):
        raise ReplyError(f"HTTP error from server: {error_message(data['error'])}")
    return data


def error_message(error: Any) -> str:
    """The human part of an OpenAI-style ``error`` value (an object or a string)."""
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str) and message:
            return message
        return json.dumps(error)
    return str(error)


def usage_tokens(data: dict[str, Any]) -> tuple[int, int] | None:
    """``(prompt_tokens, completion_tokens)`` from ``data["usage"]``, if present."""
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return None
    return _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _first_text(source: dict[str, Any], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = source.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _first_choice(data: dict[str, Any]) -> dict[str, Any] | None:
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    return None


@dataclass
class Reply:
    """The useful parts of a chat completion."""

    text: str = ""
    thinking: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    model: str | None = None


def parse_completion(data: dict[str, Any]) -> Reply:
    """A non-streamed chat completion: ``choices[0].message``, usage and model."""
    choice = _first_choice(data)
    message = choice.get("message") if choice else None
    if not isinstance(message, dict):
        raise ReplyError("HttpRunner: response has no choices[0].message")
    content = message.get("content")
    reply = Reply(
        text=content if isinstance(content, str) else "",
        thinking=_first_text(message, THINKING_KEYS),
        model=data.get("model") if isinstance(data.get("model"), str) else None,
    )
    tokens = usage_tokens(data)
    if tokens:
        reply.input_tokens, reply.output_tokens = tokens
    return reply


@dataclass
class StreamAccumulator:
    """Folds streamed chunks into a :class:`Reply`, returning the events each one yields."""

    text: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    model: str | None = None
    finish_reason: str | None = None

    def feed(self, payload: str) -> list[dict[str, Any]]:
        """Take one ``data:`` payload (not ``[DONE]``); return its thinking/stream_delta events."""
        chunk = parse_json(payload)
        model = chunk.get("model")
        if isinstance(model, str) and model:
            self.model = model
        tokens = usage_tokens(chunk)
        if tokens:
            self.input_tokens, self.output_tokens = tokens
        choice = _first_choice(chunk)
        if choice is None:
            return []
        if isinstance(choice.get("finish_reason"), str):
            self.finish_reason = choice["finish_reason"]
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            return []
        events: list[dict[str, Any]] = []
        thought = _first_text(delta, THINKING_KEYS)
        if thought:
            self.thinking.append(thought)
            events.append({"type": "thinking", "text": thought})
        content = delta.get("content")
        if isinstance(content, str) and content:
            self.text.append(content)
            events.append({"type": "stream_delta", "text": content})
        return events

    def reply(self) -> Reply:
        """Everything accumulated so far."""
        return Reply(
            text="".join(self.text),
            thinking="".join(self.thinking) or None,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            model=self.model,
        )
