"""Runner events that are not text, as short human lines (retries, warnings, progress)."""

from __future__ import annotations

from typing import Any


def retry_text(event: dict[str, Any]) -> str:
    """``API retry 3/10 in 4.2 s (HTTP 429 rate_limit)``."""
    text = (f"API retry {event.get('attempt', '?')}/{event.get('max_retries', '?')} "
            f"in {event.get('delay_s', 0)} s")
    reason = event.get("reason")
    return f"{text} ({reason})" if reason else text


def retry_status(event: dict[str, Any]) -> str:
    """The steps table's status cell while the API is being retried: ``↻ api 3/10``."""
    return f"↻ api {event.get('attempt', '?')}/{event.get('max_retries', '?')}"


def runner_note(event: dict[str, Any]) -> str | None:
    """What a retry, warning, info or tool-progress runner event says; None for others."""
    kind = event.get("type")
    if kind == "retry":
        return retry_text(event)
    if kind in ("warning", "info"):
        return str(event.get("message", ""))
    if kind == "tool_progress":
        return f"{event.get('tool_name') or '?'} running {event.get('elapsed_s', 0)} s"
    return None
