"""Conversations of the HTTP runners: the session store and the messages of a request."""

from __future__ import annotations

import threading
from typing import Any

from ail_tui.runners.base import RunnerRequest

Message = dict[str, Any]


class ConversationStore:
    """Thread-safe, in-memory chat histories keyed by session id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, list[Message]] = {}

    def get(self, session_id: str) -> list[Message] | None:
        """A copy of the session's messages, or None if the session is unknown."""
        with self._lock:
            messages = self._sessions.get(session_id)
            return None if messages is None else [dict(m) for m in messages]

    def put(self, session_id: str, messages: list[Message]) -> None:
        """Store (a copy of) ``messages`` as the session's whole history."""
        copied = [dict(m) for m in messages]
        with self._lock:
            self._sessions[session_id] = copied


def system_message(request: RunnerRequest) -> Message | None:
    """The system prompt and appended prompts joined by blank lines; None if all are empty."""
    parts = [request.system_prompt or "", *request.append_system_prompts]
    text = "\n\n".join(part for part in parts if part)
    return {"role": "system", "content": text} if text else None


def trim_history(messages: list[Message], keep: int | None) -> list[Message]:
    """A leading system message (if any) plus the last ``keep`` other messages."""
    if keep is None:
        return list(messages)
    head = messages[:1] if messages and messages[0].get("role") == "system" else []
    rest = messages[len(head) :]
    keep = max(keep, 0)
    return head + (rest[-keep:] if keep else [])


def build_messages(request: RunnerRequest, history: list[Message] | None) -> list[Message]:
    """The messages to send: the resumed history (or a fresh system message) + the prompt."""
    if history is None:
        system = system_message(request)
        history = [system] if system else []
    trimmed = trim_history(history, request.max_history_messages)
    return [*trimmed, {"role": "user", "content": request.prompt}]
