"""Timestamps as the turn log writes them: ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC (F4)."""

from __future__ import annotations

from datetime import UTC, datetime


def format_timestamp(epoch_seconds: float) -> str:
    """Format seconds since the epoch with millisecond precision and a ``Z``."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> float | None:
    """Seconds since the epoch for a turn-log timestamp (any ISO-8601 form), or None."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
