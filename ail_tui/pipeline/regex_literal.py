"""Regex literals ``/pattern/flags`` on a linear-time engine (brief §5, decisions L5).

Patterns are compiled with RE2 (``google-re2``), so a match can never take more than
linear time; look-around and back-references are rejected when the literal is parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import re2

FLAG_LETTERS = "ims"
"""Trailing flags: ``i`` ignore case, ``m`` multi-line anchors, ``s`` dot matches newline."""

_UNSUPPORTED_SYNTAX = re.compile(r"\(\?<?[=!]|\\[1-9]")


class RegexLiteralError(ValueError):
    """A regex literal that cannot be used, with a message saying why."""


def _reason(error: Exception) -> str:
    reason = error.args[0] if error.args else str(error)
    if isinstance(reason, bytes):
        return reason.decode("utf-8", "replace")
    return str(reason)


def _compile(source: str, pattern: str, flags: str) -> Any:
    """Compile for RE2; ``m`` becomes a ``(?m)`` prefix (RE2 has no option for it)."""
    options = re2.Options()
    options.log_errors = False  # absl would print parse errors to stderr
    options.case_sensitive = "i" not in flags
    options.dot_nl = "s" in flags
    prefix = "(?m)" if "m" in flags else ""
    try:
        return re2.compile(prefix + pattern, options)
    except UnicodeEncodeError:
        raise RegexLiteralError(
            f"regex literal '{source}' contains text that is not valid Unicode"
        ) from None
    except re2.error as exc:
        reason = _reason(exc)
        if prefix:  # report the error against the pattern as written, not the prefix
            try:
                re2.compile(pattern, options)
            except re2.error as plain:
                reason = _reason(plain)
        hint = ""
        if _UNSUPPORTED_SYNTAX.search(pattern):
            hint = " (RE2 has no look-around or back-references)"
        raise RegexLiteralError(
            f"regex literal '{source}' failed to compile: {reason}{hint}"
        ) from None


@dataclass(frozen=True)
class RegexLiteral:
    """A parsed ``/pattern/flags`` literal, compiled with RE2 when constructed.

    ``pattern`` has ``\\/`` already unescaped to ``/``; ``flags`` is the trailing letters.
    """

    source: str
    pattern: str
    flags: str
    _compiled: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", _compile(self.source, self.pattern, self.flags))

    @property
    def ignore_case(self) -> bool:
        """Flag ``i``: letters match either case."""
        return "i" in self.flags

    @property
    def multi_line(self) -> bool:
        """Flag ``m``: ``^`` and ``$`` also match at line breaks."""
        return "m" in self.flags

    @property
    def dot_all(self) -> bool:
        """Flag ``s``: ``.`` also matches a newline."""
        return "s" in self.flags

    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in ``text``."""
        try:
            return self._compiled.search(text) is not None
        except UnicodeEncodeError:  # lone surrogates: RE2 only takes valid UTF-8
            return self._compiled.search(text.encode("utf-8", "replace").decode()) is not None


def _closing_slash(source: str) -> int:
    """Index of the closing ``/``: the last one followed only by flag letters.

    A ``/`` followed by other ASCII letters is a literal with bad flags (an error); a ``/``
    followed by anything else is part of the pattern, and the search goes on leftwards.
    """
    index = len(source)
    while (index := source.rfind("/", 1, index)) > 0:
        tail = source[index + 1 :]
        if all(letter in FLAG_LETTERS for letter in tail):
            return index
        if tail.isascii() and tail.isalpha():
            if "g" in tail:
                raise RegexLiteralError(
                    f"regex literal '{source}' uses the 'g' flag, which is not supported: "
                    "matching only asks whether the pattern occurs, so there is nothing to "
                    "repeat; remove the flag (supported flags: i, m, s)"
                )
            bad = "".join(letter for letter in tail if letter not in FLAG_LETTERS)
            raise RegexLiteralError(
                f"regex literal '{source}' uses unsupported flag(s) '{bad}'; only i "
                "(ignore case), m (multi-line) and s (dot matches newline) are accepted"
            )
    raise RegexLiteralError(f"regex literal '{source}' is not terminated (missing closing '/')")


@lru_cache(maxsize=4096)
def parse_regex_literal(text: str) -> RegexLiteral:
    """Parse and compile ``/P/F`` (flags among ``i``, ``m``, ``s``); ``\\/`` stands for ``/``.

    Raises :class:`RegexLiteralError` for a malformed literal or a pattern RE2 rejects.
    """
    source = text.strip()
    if not source.startswith("/"):
        raise RegexLiteralError(
            f"regex literal must start with '/', got '{source}'; write it as /pattern/ or "
            "/pattern/flags"
        )
    end = _closing_slash(source)
    raw_pattern = source[1:end]
    if not raw_pattern:
        raise RegexLiteralError(f"regex literal '{source}' has an empty pattern")
    return RegexLiteral(source, raw_pattern.replace("\\/", "/"), source[end + 1 :])
