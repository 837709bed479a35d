"""Credentials that must never be shown: known once, masked wherever text leaves the engine.

Auth tokens reach ail-tui from the pipeline (``defaults.provider.auth_token``) and from
the environment. Once known, a value is replaced by :data:`MASK` in every event, turn-log
record and error message, whatever put it there (a server echoing a header, a shell step
printing its environment, a model repeating its prompt).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

MASK = "***"
MIN_LENGTH = 6
"""Shorter values are not treated as secrets: masking them would mangle ordinary text."""

ENVIRONMENT_NAMES = (
    "AIL_HTTP_TOKEN",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
)
"""Environment variables whose values are credentials."""


class SecretSet:
    """A thread-safe set of secret values and the masking of text that may hold them.

    Masking is leftmost-longest: text is scanned from the left and, where several secrets
    start at one place, the longest is masked whole. That is what makes masking a stream
    piece by piece (:meth:`split_final`) give the same text as masking it at once.
    """

    def __init__(self, values: Iterable[object] = ()) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()
        self._pattern: re.Pattern[str] | None = None
        for value in values:
            self.add(value)

    def __bool__(self) -> bool:
        return bool(self._values)

    @property
    def longest(self) -> int:
        """The length of the longest secret (0 when there is none)."""
        values = self._values
        return len(values[0]) if values else 0

    def copy(self) -> SecretSet:
        """A new set holding the same secrets."""
        return SecretSet(self._values)

    def add(self, value: object) -> None:
        """Treat ``value`` as a secret from now on (blank or short values are ignored)."""
        if not isinstance(value, str) or len(value.strip()) < MIN_LENGTH:
            return
        value = value.strip()
        with self._lock:
            if value not in self._values:
                # Longest first, so a secret containing another is masked whole.
                values = tuple(sorted((*self._values, value), key=len, reverse=True))
                self._pattern = re.compile("|".join(map(re.escape, values)))
                self._values = values

    def add_environment(self, environ: Mapping[str, str] | None = None) -> None:
        """Add the values of the credential variables of ``environ`` (default: os.environ)."""
        environ = os.environ if environ is None else environ
        for name in ENVIRONMENT_NAMES:
            self.add(environ.get(name))

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced by :data:`MASK`."""
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None else text

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where :meth:`redact` would mask ``text``: ``(start, end)`` of each secret."""
        pattern = self._pattern
        return [match.span() for match in pattern.finditer(text)] if pattern else []

    def split_final(self, text: str) -> tuple[str, str]:
        """``text`` cut where more text appended could no longer change its masking.

        Returns the masked part before the cut and the raw rest: the tail that could
        still be the start of a secret (never as long as the longest one), to be put in
        front of the next piece, or masked on its own when the text ends.
        """
        pattern, values = self._pattern, self._values
        if pattern is None:
            return text, ""
        out: list[str] = []
        pos = 0
        hold = _first_open(text, 0, values)
        for match in pattern.finditer(text):
            if match.start() >= hold:
                break
            out += [text[pos : match.start()], MASK]
            pos = match.end()
            if hold < pos:
                hold = _first_open(text, pos, values)
        out.append(text[pos:hold])
        return "".join(out), text[hold:]

    def redact_value(self, value: Any) -> Any:
        """A copy of a JSON-like value (str, dict, list, tuple) with secrets masked."""
        if not self._values:
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {key: self.redact_value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.redact_value(item) for item in value)
        return value

    def masked_stream(self, emit: Callable[[dict[str, Any]], None]) -> StreamRedactor:
        """A sink for one step's runner events that masks secrets split across deltas."""
        return StreamRedactor(emit, self)


def _first_open(text: str, start: int, values: tuple[str, ...]) -> int:
    """The first place from ``start`` where a secret could begin and run past ``text``."""
    end = len(text)
    for place in range(max(start, end - len(values[0]) + 1), end):
        rest = text[place:]
        if any(len(value) > len(rest) and value.startswith(rest) for value in values):
            return place
    return end


def mask(text: str, secret: str | None) -> str:
    """``text`` with one secret (when there is one) replaced by :data:`MASK`."""
    return text.replace(secret, MASK) if secret else text


def masked_sink(emit: Callable[[dict[str, Any]], None],
                secret: str | None) -> Callable[[dict[str, Any]], None]:
    """``emit`` with ``secret`` masked in every string value of every event it is given."""
    if not secret:
        return emit
    secrets = SecretSet()
    secrets.add(secret)
    if not secrets:  # too short to mask without mangling text
        return emit
    return lambda event: emit(secrets.redact_value(event))


DELTA_TYPES = ("stream_delta", "thinking")
"""Runner events whose ``text`` is one piece of a stream (the reply, the thinking)."""


class StreamRedactor:
    """Masks secrets in one step's runner events, also when a secret is split across deltas.

    Each delta stream (see :data:`DELTA_TYPES`) holds back the tail that could still be
    the start of a secret (shorter than the longest one, see :meth:`SecretSet.split_final`)
    and passes on only the masked text before it. The tails are
    flushed, masked, before any other event of the step and when the stream ends (leave
    the ``with`` block or call :meth:`flush`), so the joined deltas are the masked reply.
    """

    def __init__(self, emit: Callable[[dict[str, Any]], None], secrets: SecretSet) -> None:
        self._emit = emit
        self._secrets = secrets
        self._held: dict[str, str] = {}
        self._lock = threading.Lock()  # runners may emit from a thread of their own

    def __call__(self, event: dict[str, Any]) -> None:
        kind, text = str(event.get("type")), event.get("text")
        if kind not in DELTA_TYPES and not self._held and not self._secrets:
            self._emit(event)  # no tail can be held back: nothing to flush before it
            return
        with self._lock:
            if kind in DELTA_TYPES and isinstance(text, str):
                safe, self._held[kind] = self._secrets.split_final(self._held.get(kind, "") + text)
                if safe:
                    self._emit({**event, "text": safe})
            else:
                self._flush()
                self._emit(event)

    def __enter__(self) -> StreamRedactor:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.flush()

    def flush(self) -> None:
        """Pass on whatever text is held back: the stream has ended."""
        if not self._held:
            return
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        held, self._held = self._held, {}
        for kind, text in held.items():
            if text:
                self._emit({"type": kind, "text": self._secrets.redact(text)})


SECRETS = SecretSet()
"""The process's secrets: every run adds its own, and nothing is ever shown unmasked."""
