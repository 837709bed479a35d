"""Warnings for keys the language does not know, with a did-you-mean (decisions L4)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import cache

from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.models import Node, Step
from ail_tui.pipeline.validation.findings import Findings

_PLACES = {
    "PipelineFile": "the top level",
    "Defaults": "defaults",
    "Provider": "defaults.provider",
    "Sampling": "sampling",
    "ToolPolicy": "tools",
    "ContextSource": "context",
    "Reconcile": "reconcile",
    "AppendPrompt": "an append_system_prompt entry",
    "ResultBranch": "an on_result branch",
    "ResultSwitch": "on_result",
    "ResultAction": "an on_result action",
    "DoWhile": "do_while",
    "ForEach": "for_each",
}


@cache
def _known(cls: type[Node]) -> list[str]:
    return [info.alias or name for name, info in cls.model_fields.items()]


def _children(node: Node) -> Iterator[Node]:
    for name in node.model_fields_set:
        value = getattr(node, name)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, Node):
                yield item


def check_unknown_keys(node: Node, findings: Findings, step_id: str | None = None) -> None:
    """Warn about every unknown key in ``node`` and the models below it."""
    if isinstance(node, Step) and node.id is not None:
        step_id = node.id
    known = _known(type(node))
    for key in node.model_extra or ():
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        place = _PLACES.get(type(node).__name__, "step")
        where = f"in {place}" + (f" of step '{step_id}'" if step_id else "")
        if isinstance(node, Step):
            where = f"in step '{step_id}'" if step_id else "in a step"
        findings.warning(
            f"Unknown key '{key}' {where} is ignored{hint}",
            node.key_pos(key),
            step_id,
            ErrorType.UNKNOWN_KEY,
        )
    for child in _children(node):
        check_unknown_keys(child, findings, step_id)
