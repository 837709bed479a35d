"""Template syntax ``{{ variable }}`` and ``{{ variable | default("text") }}`` (brief §4).

Parsing is a single pass: find ``{{``, then the next ``}}``; the text between is trimmed.
Substituted text is never scanned again and there are no escapes. The ``default`` filter
(decisions L1) supplies text for a variable that cannot be resolved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

STEP_FIELDS = frozenset(
    {"response", "result", "stdout", "stderr", "exit_code", "modified", "index", "items",
     "tool_calls"}
)
"""Fields of ``step.<id>.<field>``."""

_DEFAULT_FILTER = re.compile(r"""default\s*\(\s*(?:"([^"]*)"|'([^']*)')\s*\)""")
_FILTER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TemplateSyntaxError(ValueError):
    """A template that cannot be parsed; ``offset`` is the index of the offending ``{{``."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class UnresolvedVariable(LookupError):
    """A variable with no value at run time (``ail:template/unresolved-variable``)."""


def env_value(env: Mapping[str, str], name: str) -> str:
    """``{{ env.NAME }}``: the variable's value; unset is an :class:`UnresolvedVariable`."""
    if name not in env:
        raise UnresolvedVariable(f"Environment variable '{name}' is not set")
    return env[name]


@dataclass(frozen=True)
class Placeholder:
    """One ``{{ ... }}`` of a template.

    ``expression`` is the trimmed inner text; ``variable`` and ``default`` are its parts
    (``default`` is None without a filter). ``start`` is the index of ``{{`` in the
    template and ``end`` the index just past ``}}``.
    """

    expression: str
    variable: str
    default: str | None
    start: int
    end: int


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and placeholders, in order."""

    source: str
    parts: tuple[str | Placeholder, ...]

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        """The placeholders, in order."""
        return tuple(part for part in self.parts if isinstance(part, Placeholder))


def _split_filter(expression: str, start: int) -> tuple[str, str | None]:
    """``VAR`` or ``VAR | default("text")`` → (variable, default)."""
    if "|" not in expression:
        return expression, None
    variable, _, text = expression.partition("|")
    variable, text = variable.strip(), text.strip()
    shown = f"'{{{{ {expression} }}}}'"
    match = _DEFAULT_FILTER.fullmatch(text)
    if match is None:
        if not text:
            raise TemplateSyntaxError(
                f"{shown} has nothing after '|'; the only filter is default(\"text\")", start
            )
        name = _FILTER_NAME.match(text)
        if name is None or name.group() != "default":
            raise TemplateSyntaxError(
                f"{shown} uses the unknown filter '{name.group() if name else text}'; the only "
                "filter is default(\"text\")",
                start,
            )
        raise TemplateSyntaxError(
            f"{shown} has a malformed default filter; write default(\"text\") or "
            "default('text') with one quoted argument",
            start,
        )
    if not variable:
        raise TemplateSyntaxError(f"{shown} has no variable before '|'", start)
    default = match.group(1) if match.group(1) is not None else match.group(2)
    return variable, default


@lru_cache(maxsize=4096)
def parse_template(text: str) -> Template:
    """Split ``text`` into literal parts and placeholders.

    Raises :class:`TemplateSyntaxError` for an unmatched ``{{``, an empty ``{{ }}`` or a
    malformed filter.
    """
    parts: list[str | Placeholder] = []
    position = 0
    while (start := text.find("{{", position)) >= 0:
        close = text.find("}}", start + 2)
        if close < 0:
            raise TemplateSyntaxError("Found '{{' without matching '}}'", start)
        if start > position:
            parts.append(text[position:start])
        expression = text[start + 2 : close].strip()
        if not expression:
            raise TemplateSyntaxError("Found an empty '{{ }}' with no variable inside", start)
        variable, default = _split_filter(expression, start)
        parts.append(Placeholder(expression, variable, default, start, close + 2))
        position = close + 2
    if position < len(text):
        parts.append(text[position:])
    return Template(text, tuple(parts))


def render(template: Template, resolve: Callable[[str], str]) -> str:
    """Substitute every placeholder with ``resolve(variable)``.

    When ``resolve`` raises :class:`UnresolvedVariable`, the placeholder's default is used
    if it has one; otherwise the error propagates. Substituted text is not scanned again.
    """
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        try:
            out.append(resolve(part.variable))
        except UnresolvedVariable:
            if part.default is None:
                raise
            out.append(part.default)
    return "".join(out)


class VariableKind(StrEnum):
    """What a template variable refers to."""

    INVOCATION_PROMPT = "invocation_prompt"
    INVOCATION_RESPONSE = "invocation_response"
    LAST_RESPONSE = "last_response"
    SESSION_TOOL = "session_tool"
    SESSION_CWD = "session_cwd"
    PIPELINE_RUN_ID = "pipeline_run_id"
    ENV = "env"
    DO_WHILE = "do_while"
    FOR_EACH = "for_each"
    STEP = "step"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class VariableRef:
    """A classified template variable.

    - ``STEP``: ``step_id`` and either a ``field`` (``step.x.response``) or a JSON ``path``
      into the step's response (``step.checks.lint.clean`` → id ``checks``, path
      ``("lint", "clean")``); the invocation kinds carry ``step_id="invocation"`` too.
    - ``DO_WHILE`` / ``FOR_EACH``: ``field`` is the name after the dot. Whether a
      ``for_each`` name is legal depends on the loop's ``as:``, which the validator checks.
    - ``ENV``: ``env_name``. ``UNKNOWN``: ``problem`` says why.
    """

    name: str
    kind: VariableKind
    step_id: str | None = None
    field: str | None = None
    path: tuple[str, ...] = ()
    env_name: str | None = None
    problem: str | None = None


_FIXED = {
    "last_response": VariableRef("last_response", VariableKind.LAST_RESPONSE),
    "session.tool": VariableRef("session.tool", VariableKind.SESSION_TOOL),
    "session.cwd": VariableRef("session.cwd", VariableKind.SESSION_CWD),
    "pipeline.run_id": VariableRef("pipeline.run_id", VariableKind.PIPELINE_RUN_ID),
    "step.invocation.prompt": VariableRef("step.invocation.prompt",
                                          VariableKind.INVOCATION_PROMPT, "invocation", "prompt"),
    "step.invocation.response": VariableRef("step.invocation.response",
                                            VariableKind.INVOCATION_RESPONSE, "invocation",
                                            "response"),
}
_DO_WHILE_FIELDS = ("iteration", "max_iterations")


def _unknown(name: str, why: str = "") -> VariableRef:
    message = f"'{{{{ {name} }}}}' is not a recognised template variable{why}"
    return VariableRef(name, VariableKind.UNKNOWN, problem=message)


def _step_ref(name: str, rest: str) -> VariableRef:
    """``step.<rest>``: the first segment is the step id (ids have no dots)."""
    parts = rest.split(".")
    if len(parts) < 2:
        return _unknown(name, " (write step.<id>.<field>)")
    if "" in parts:
        return _unknown(name, " (it has an empty part between dots)")
    step_id, *path = parts
    if len(path) == 1:
        if path[0] in STEP_FIELDS:
            return VariableRef(name, VariableKind.STEP, step_id=step_id, field=path[0])
        fields = ", ".join(sorted(STEP_FIELDS))
        return _unknown(name, f" ('{path[0]}' is not a step field; fields are {fields})")
    return VariableRef(name, VariableKind.STEP, step_id=step_id, path=tuple(path))


@lru_cache(maxsize=4096)
def parse_variable(name: str) -> VariableRef:
    """Classify a variable name (brief §4); never raises.

    Unknown forms get kind ``UNKNOWN`` and a ``problem`` message.
    """
    name = name.strip()
    fixed = _FIXED.get(name)
    if fixed is not None:
        return fixed
    head, dot, rest = name.partition(".")
    if head == "env" and dot:
        if not rest:
            return _unknown(name, " (write env.<NAME>)")
        return VariableRef(name, VariableKind.ENV, env_name=rest)
    if head == "do_while":
        if rest in _DO_WHILE_FIELDS:
            return VariableRef(name, VariableKind.DO_WHILE, field=rest)
        return _unknown(name, " (do_while offers iteration and max_iterations)")
    if head == "for_each":
        if rest and "." not in rest:
            return VariableRef(name, VariableKind.FOR_EACH, field=rest)
        return _unknown(name, " (for_each offers index, total, item and the loop's 'as' name)")
    if head == "step" and dot:
        return _step_ref(name, rest)
    return _unknown(name)
