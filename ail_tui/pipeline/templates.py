"""Template syntax ``{{ variable }}`` and ``{{ variable | default("text") }}`` (brief §4).

Parsing is a single pass: find ``{{``, then the next ``}}``; substituted text is never
scanned again and there are no escapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

STEP_FIELDS = frozenset(
    {"response", "result", "stdout", "stderr", "exit_code", "modified", "index", "items",
     "tool_calls"}
)
_DEFAULT_RE = re.compile(r"""^default\(\s*(?:"([^"]*)"|'([^']*)')\s*\)$""")


class TemplateSyntaxError(ValueError):
    """A template that cannot be parsed; ``offset`` is where the problem starts."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class UnresolvedVariable(LookupError):
    """A variable with no value at run time (``ail:template/unresolved-variable``)."""


@dataclass(frozen=True)
class Placeholder:
    """One ``{{ ... }}`` of a template."""

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
    def placeholders(self) -> list[Placeholder]:
        """The placeholders, in order."""
        return [part for part in self.parts if isinstance(part, Placeholder)]


def _split_filter(expression: str, start: int) -> tuple[str, str | None]:
    if "|" not in expression:
        return expression, None
    variable, _, flt = expression.partition("|")
    variable, flt = variable.strip(), flt.strip()
    match = _DEFAULT_RE.match(flt)
    if match is None:
        name = flt.split("(", 1)[0].strip() or flt
        if name != "default":
            raise TemplateSyntaxError(
                f"'{{{{ {expression} }}}}' uses the unknown filter '{name}'; the only filter "
                "is default(\"text\")",
                start,
            )
        raise TemplateSyntaxError(
            f"'{{{{ {expression} }}}}': default needs one quoted argument, "
            "e.g. default(\"none\")",
            start,
        )
    if not variable:
        raise TemplateSyntaxError(f"'{{{{ {expression} }}}}' has no variable before '|'", start)
    default = match.group(1) if match.group(1) is not None else match.group(2)
    return variable, default


@lru_cache(maxsize=4096)
def parse_template(text: str) -> Template:
    """Split ``text`` into literal parts and placeholders; raise :class:`TemplateSyntaxError`."""
    parts: list[str | Placeholder] = []
    position = 0
    while True:
        start = text.find("{{", position)
        if start < 0:
            break
        close = text.find("}}", start + 2)
        if close < 0:
            raise TemplateSyntaxError("Found '{{' without matching '}}'", start)
        if start > position:
            parts.append(text[position:start])
        expression = text[start + 2 : close].strip()
        if not expression:
            raise TemplateSyntaxError("Found an empty '{{ }}'", start)
        variable, default = _split_filter(expression, start)
        parts.append(Placeholder(expression, variable, default, start, close + 2))
        position = close + 2
    if position < len(text):
        parts.append(text[position:])
    return Template(text, tuple(parts))


def render(template: Template, resolve: Callable[[str], str]) -> str:
    """Substitute every placeholder with ``resolve(variable)``, or its default if unresolved."""
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

    ``STEP`` refs have ``step_id`` and either a ``field`` (``step.x.response``) or a JSON
    ``path`` into the step's response (``step.checks.lint.clean``).
    """

    name: str
    kind: VariableKind
    step_id: str | None = None
    field: str | None = None
    path: tuple[str, ...] = ()
    env_name: str | None = None
    problem: str | None = None


_FIXED = {
    "last_response": VariableKind.LAST_RESPONSE,
    "session.tool": VariableKind.SESSION_TOOL,
    "session.cwd": VariableKind.SESSION_CWD,
    "pipeline.run_id": VariableKind.PIPELINE_RUN_ID,
    "step.invocation.prompt": VariableKind.INVOCATION_PROMPT,
    "step.invocation.response": VariableKind.INVOCATION_RESPONSE,
}


def _unknown(name: str, why: str = "") -> VariableRef:
    message = f"'{{{{ {name} }}}}' is not a recognised template variable{why}"
    return VariableRef(name, VariableKind.UNKNOWN, problem=message)


@lru_cache(maxsize=4096)
def parse_variable(name: str) -> VariableRef:
    """Classify a variable name (brief §4); unknown forms carry a ``problem`` message."""
    name = name.strip()
    fixed = _FIXED.get(name)
    if fixed is not None:
        return VariableRef(name, fixed, step_id="invocation" if "invocation" in name else None,
                           field=name.rsplit(".", 1)[1] if "invocation" in name else None)
    head, _, rest = name.partition(".")
    if head == "env" and rest:
        return VariableRef(name, VariableKind.ENV, env_name=rest)
    if head == "do_while":
        if rest in ("iteration", "max_iterations"):
            return VariableRef(name, VariableKind.DO_WHILE, field=rest)
        return _unknown(name, " (do_while offers iteration and max_iterations)")
    if head == "for_each" and rest and "." not in rest:
        return VariableRef(name, VariableKind.FOR_EACH, field=rest)
    if head != "step" or not rest:
        return _unknown(name)
    step_id, dot, field = rest.rpartition(".")
    if not dot or not step_id:
        return _unknown(name, " (write step.<id>.<field>)")
    if field in STEP_FIELDS and "." not in step_id:
        return VariableRef(name, VariableKind.STEP, step_id=step_id, field=field)
    parts = rest.split(".")
    if len(parts) >= 3:
        return VariableRef(name, VariableKind.STEP, step_id=parts[0], path=tuple(parts[1:]))
    if "::" in step_id and field in STEP_FIELDS:
        return VariableRef(name, VariableKind.STEP, step_id=step_id, field=field)
    fields = ", ".join(sorted(STEP_FIELDS))
    return _unknown(name, f" ('{field}' is not a step field; fields are {fields})")
