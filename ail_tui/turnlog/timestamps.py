"""Timestamps as the turn log writes them: ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC (F4)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache


@lru_cache(maxsize=256)
def _second(whole_seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.`` of one second (records come many to a second)."""
    return datetime.fromtimestamp(whole_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.")


def format_timestamp(epoch_seconds: float) -> str:
    """Format seconds since the epoch with millisecond precision and a ``Z``."""
    fraction, whole = math.modf(epoch_seconds)
    micros = round(fraction * 1e6)  # as datetime rounds: to the microsecond, half to even
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    elif micros < 0:
        whole, micros = whole - 1, micros + 1_000_000
    return _second(int(whole)) + _MILLIS[micros // 1000]


_MILLIS = tuple(f"{millis:03d}Z" for millis in range(1000))
"""``000Z`` to ``999Z``: the end of a timestamp, made once."""


@lru_cache(maxsize=256)
def _whole_second(text: str) -> int | None:
    """Seconds since the epoch of ``YYYY-MM-DDTHH:MM:SS`` in UTC."""
    try:
        return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def parse_timestamp(text: str) -> float | None:
    """Seconds since the epoch for a turn-log timestamp (any ISO-8601 form), or None.

    Remembered: a log's records carry the same moments again and again."""
    if len(text) == 24 and text[19] == "." and text[23] == "Z" and text[20:23].isdigit():
        whole = _whole_second(text[:19])  # our own form, many to a second: the fast way
        if whole is not None:  # the same float as datetime's timestamp()
            return (whole * 1_000_000 + int(text[20:23]) * 1000) / 1_000_000
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
