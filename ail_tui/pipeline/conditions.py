"""The condition grammar: ``always``, ``never`` or ``LHS op RHS`` (brief §5)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from ail_tui.pipeline.regex_literal import RegexLiteral, parse_regex_literal


class Operator(StrEnum):
    """Comparison operators, in the priority order they are searched for."""

    MATCHES = "matches"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    CONTAINS = "contains"
    NOT_EQUAL = "!="
    EQUAL = "=="


class ConditionSyntaxError(ValueError):
    """A condition that does not parse."""


@dataclass(frozen=True)
class Always:
    """A condition that always holds."""


@dataclass(frozen=True)
class Never:
    """A condition that never holds."""


@dataclass(frozen=True)
class Comparison:
    """``lhs op rhs``; both sides are templates, ``regex`` is set for ``matches``."""

    lhs: str
    op: Operator
    rhs: str
    regex: RegexLiteral | None = None


Condition = Always | Never | Comparison

_WHITESPACE = " \t\n\r\x0c"


def _masked(text: str) -> str:
    """``text`` with everything inside ``{{ … }}`` blanked out (same length)."""
    out = list(text)
    position = 0
    while True:
        start = text.find("{{", position)
        if start < 0:
            break
        close = text.find("}}", start + 2)
        end = len(text) if close < 0 else close + 2
        for index in range(start, end):
            out[index] = "\0"
        position = end
    return "".join(out)


def _find_operator(masked: str, op: Operator) -> int:
    word = op.value[0].isalpha()
    position = 0
    while True:
        index = masked.find(op.value, position)
        if index < 0:
            return -1
        if not word:
            return index
        before_ok = index == 0 or masked[index - 1] in _WHITESPACE
        after = index + len(op.value)
        after_ok = after == len(masked) or masked[after] in _WHITESPACE
        if before_ok and after_ok:
            return index
        position = index + 1


def _strip_quotes(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


@lru_cache(maxsize=4096)
def parse_condition(text: str) -> Condition:
    """Parse a condition; raise :class:`ConditionSyntaxError` (or a regex literal error)."""
    stripped = text.strip()
    if stripped in ("", "always"):
        return Always()
    if stripped == "never":
        return Never()
    masked = _masked(text)
    for op in Operator:
        index = _find_operator(masked, op)
        if index < 0:
            continue
        lhs = text[:index].strip()
        rhs = _strip_quotes(text[index + len(op.value) :].strip())
        if not lhs:
            raise ConditionSyntaxError(f"condition '{stripped}' has an empty left-hand side")
        if not rhs.strip():
            raise ConditionSyntaxError(f"condition '{stripped}' has an empty right-hand side")
        regex = parse_regex_literal(rhs) if op is Operator.MATCHES else None
        return Comparison(lhs, op, rhs, regex)
    raise ConditionSyntaxError(
        f"condition '{stripped}' is not a recognised named condition ('always', 'never') and "
        "does not contain a supported operator (==, !=, contains, starts_with, ends_with, "
        "matches)"
    )


def parse_exit_when(text: str) -> Comparison:
    """Parse a do_while ``exit_when``, which must be a comparison."""
    condition = parse_condition(text)
    if not isinstance(condition, Comparison):
        raise ConditionSyntaxError(
            f"exit_when '{text.strip()}' must be a comparison (e.g. "
            "\"{{ step.test.exit_code }} == 0\"); 'always' and 'never' are not allowed"
        )
    return condition


def templates_in(condition: Condition) -> list[str]:
    """The side texts of a condition that are templated at evaluation time."""
    if not isinstance(condition, Comparison):
        return []
    if condition.op is Operator.MATCHES:
        return [condition.lhs]
    return [condition.lhs, condition.rhs]


def evaluate(condition: Condition, render: Callable[[str], str]) -> bool:
    """Evaluate with ``render`` templating each side (both sides are trimmed after)."""
    if isinstance(condition, Always):
        return True
    if isinstance(condition, Never):
        return False
    lhs = render(condition.lhs).strip()
    if condition.op is Operator.MATCHES:
        assert condition.regex is not None
        return condition.regex.search(lhs)
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
