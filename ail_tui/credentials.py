"""Credentials that must never be shown: known once, masked wherever text leaves the engine.

Auth tokens reach ail-tui from the pipeline (``defaults.provider.auth_token``) and from
the environment. Once known, a value is replaced by :data:`MASK` in every event, turn-log
record and error message, whatever put it there (a server echoing a header, a shell step
printing its environment, a model repeating its prompt).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
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
    """A thread-safe set of secret values and the masking of text that may hold them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self._values)

    def add(self, value: object) -> None:
        """Treat ``value`` as a secret from now on (blank or short values are ignored)."""
        if not isinstance(value, str) or len(value.strip()) < MIN_LENGTH:
            return
        value = value.strip()
        with self._lock:
            if value not in self._values:
                # Longest first, so a secret containing another is masked whole.
                self._values = tuple(sorted((*self._values, value), key=len, reverse=True))

    def add_environment(self, environ: Mapping[str, str] | None = None) -> None:
        """Add the values of the credential variables of ``environ`` (default: os.environ)."""
        environ = os.environ if environ is None else environ
        for name in ENVIRONMENT_NAMES:
            self.add(environ.get(name))

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced by :data:`MASK`."""
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text

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


SECRETS = SecretSet()
"""The process's secrets: every run adds its own, and nothing is ever shown unmasked."""
