"""Regex literals ``/pattern/flags`` on a linear-time engine (brief §5, decisions L5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import re2

FLAG_LETTERS = frozenset("ims")


class RegexLiteralError(ValueError):
    """A regex literal that cannot be used, with a message saying why."""


def _compile(pattern: str, flags: str) -> Any:
    options = re2.Options()
    options.log_errors = False  # keep absl's stderr logging off the screen
    options.case_sensitive = "i" not in flags
    options.dot_nl = "s" in flags
    prefix = "(?m)" if "m" in flags else ""
    try:
        return re2.compile(prefix + pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexLiteralError(
            f"regex /{pattern}/ failed to compile: {reason} (RE2 syntax: no look-around or "
            "back-references)"
        ) from None


@dataclass(frozen=True)
class RegexLiteral:
    """A parsed ``/pattern/flags`` literal, compiled with RE2."""

    source: str
    pattern: str
    flags: str
    _compiled: Any = field(repr=False, compare=False, default=None)

    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in ``text``."""
        return self._compiled.search(text) is not None


@lru_cache(maxsize=4096)
def parse_regex_literal(text: str) -> RegexLiteral:
    """Parse and compile ``/P/F`` (flags among ``i``, ``m``, ``s``); ``\\/`` stands for ``/``."""
    source = text.strip()
    if not source.startswith("/"):
        raise RegexLiteralError(
            f"'{source}' is not a regex literal; write it as /pattern/ or /pattern/flags"
        )
    end = len(source)
    while end > 1 and source[end - 1].isalpha():
        end -= 1
    if end <= 1 or source[end - 1] != "/":
        raise RegexLiteralError(f"regex literal '{source}' has no closing '/'")
    flags = source[end:]
    if "g" in flags:
        raise RegexLiteralError(
            f"regex literal '{source}' uses the 'g' flag, which is not supported "
            "(matches already searches the whole text); supported flags are i, m, s"
        )
    unknown = sorted(set(flags) - FLAG_LETTERS)
    if unknown:
        raise RegexLiteralError(
            f"regex literal '{source}' has unknown flag(s) {', '.join(unknown)}; "
            "supported flags are i, m, s"
        )
    pattern = source[1 : end - 1].replace("\\/", "/")
    if not pattern:
        raise RegexLiteralError(f"regex literal '{source}' has an empty pattern")
    return RegexLiteral(source, pattern, flags, _compile(pattern, flags))
