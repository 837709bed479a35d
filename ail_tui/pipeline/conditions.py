"""The condition grammar: ``always``, ``never`` or ``LHS op RHS`` (brief §5).

Operators are searched for in a fixed priority (``matches`` first, ``==`` last) and the
first one found wins, wherever it stands. Text inside ``{{ … }}`` never counts, and word
operators need whitespace (or the end of the text) on both sides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from ail_tui.pipeline.regex_literal import RegexLiteral, RegexLiteralError, parse_regex_literal


class Operator(StrEnum):
    """Comparison operators, in the priority order they are searched for."""

    MATCHES = "matches"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    CONTAINS = "contains"
    NOT_EQUAL = "!="
    EQUAL = "=="


class ConditionSyntaxError(ValueError):
    """A condition that does not parse, with a message saying why."""


@dataclass(frozen=True)
class Always:
    """A condition that always holds."""


@dataclass(frozen=True)
class Never:
    """A condition that never holds."""


@dataclass(frozen=True)
class Comparison:
    """``lhs op rhs``; both sides are templates, ``regex`` is set for ``matches``.

    ``rhs`` has one pair of outer quotes removed; for ``matches`` it is the regex literal
    (not templated).
    """

    lhs: str
    op: Operator
    rhs: str
    regex: RegexLiteral | None = None


Condition = Always | Never | Comparison

_ASCII_WHITESPACE = " \t\n\r\x0c"
_OPERATOR_LIST = "==, !=, contains, starts_with, ends_with, matches"


def _inside_template(text: str, index: int) -> bool:
    """Whether ``index`` lies after a ``{{`` that is not closed before it."""
    open_at = text.rfind("{{", 0, index)
    return open_at >= 0 and "}}" not in text[open_at + 2 : index]


def _find_operator(text: str, op: Operator) -> int:
    """Index of the first usable occurrence of ``op`` in ``text``, or -1."""
    token = op.value
    word = token[0].isalpha()
    position = 0
    while (index := text.find(token, position)) >= 0:
        position = index + len(token)
        if _inside_template(text, index):
            continue
        if not word:
            return index
        before_ok = index == 0 or text[index - 1] in _ASCII_WHITESPACE
        after_ok = position == len(text) or text[position] in _ASCII_WHITESPACE
        if before_ok and after_ok:
            return index
    return -1


def _strip_quotes(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


@lru_cache(maxsize=4096)
def parse_condition(text: str) -> Condition:
    """Parse ``always``, ``never`` or ``LHS op RHS``; raise :class:`ConditionSyntaxError`.

    A ``matches`` right-hand side that is not a usable regex literal is also a
    :class:`ConditionSyntaxError` (its cause is the :class:`RegexLiteralError`).
    """
    stripped = text.strip()
    if stripped == "always":
        return Always()
    if stripped == "never":
        return Never()
    for op in Operator:
        index = _find_operator(text, op)
        if index < 0:
            continue
        lhs = text[:index].strip()
        rhs = _strip_quotes(text[index + len(op.value) :].strip())
        if not lhs:
            raise ConditionSyntaxError(f"condition '{stripped}' has an empty left-hand side")
        if not rhs:
            needs = " ('matches' needs a regex literal such as /pattern/i)" if (
                op is Operator.MATCHES) else ""
            raise ConditionSyntaxError(
                f"condition '{stripped}' has an empty right-hand side{needs}"
            )
        if op is not Operator.MATCHES:
            return Comparison(lhs, op, rhs)
        try:
            regex = parse_regex_literal(rhs)
        except RegexLiteralError as exc:
            raise ConditionSyntaxError(f"condition '{stripped}', 'matches' operator: {exc}") \
                from exc
        return Comparison(lhs, op, rhs, regex)
    raise ConditionSyntaxError(
        f"condition '{stripped}' is not a recognised named condition ('always', 'never') and "
        f"does not contain a supported operator ({_OPERATOR_LIST})"
    )


def parse_exit_when(text: str) -> Comparison:
    """Parse a do_while ``exit_when``, which must be a comparison (not always/never)."""
    condition = parse_condition(text)
    if not isinstance(condition, Comparison):
        raise ConditionSyntaxError(
            f"exit_when '{text.strip()}' must be a comparison (e.g. "
            "\"{{ step.test.exit_code }} == 0\"); 'always' and 'never' are not allowed"
        )
    return condition


def templates_in(condition: Condition) -> list[str]:
    """The side texts of a condition that are templated when it is evaluated."""
    if not isinstance(condition, Comparison):
        return []
    if condition.op is Operator.MATCHES:
        return [condition.lhs]
    return [condition.lhs, condition.rhs]


def evaluate(condition: Condition, render: Callable[[str], str]) -> bool:
    """Evaluate ``condition``; ``render`` templates one side's raw text.

    Both rendered sides are trimmed. ``==``/``!=`` compare exactly; ``contains``,
    ``starts_with`` and ``ends_with`` ignore case; ``matches`` searches the left side.
    Errors raised by ``render`` propagate.
    """
    if isinstance(condition, Always):
        return True
    if isinstance(condition, Never):
        return False
    lhs = render(condition.lhs).strip()
    if condition.op is Operator.MATCHES:
        regex = condition.regex or parse_regex_literal(condition.rhs)
        return regex.search(lhs)
    rhs = render(condition.rhs).strip()
    match condition.op:
        case Operator.EQUAL:
            return lhs == rhs
        case Operator.NOT_EQUAL:
            return lhs != rhs
        case Operator.CONTAINS:
            return rhs.lower() in lhs.lower()
        case Operator.STARTS_WITH:
            return lhs.lower().startswith(rhs.lower())
        case _:
            return lhs.lower().endswith(rhs.lower())
