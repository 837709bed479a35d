"""Evaluating ``on_result``: which branch fires for a step's entry (brief §5, decisions L1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ail_tui.pipeline.conditions import evaluate, parse_condition
from ail_tui.pipeline.models import ResultBranch, ResultSwitch, Step
from ail_tui.pipeline.regex_literal import parse_regex_literal
from ail_tui.turnlog.entry import TurnEntry


class ResultAction(StrEnum):
    """What an ``on_result`` branch does (``pipeline: PATH`` is PIPELINE with a target)."""

    CONTINUE = "continue"
    BREAK = "break"
    ABORT_PIPELINE = "abort_pipeline"
    PAUSE_FOR_HUMAN = "pause_for_human"
    PIPELINE = "pipeline"


@dataclass(frozen=True)
class Fired:
    """The action an ``on_result`` chose, with its optional prompt and message."""

    action: ResultAction
    target: str | None = None
    """The pipeline a ``pipeline:`` action runs."""
    prompt: str | None = None
    message: str | None = None


def fired(action: str | None, prompt: str | None, message: str | None) -> Fired:
    """The action as written (default ``continue``), parsed."""
    text = action or ResultAction.CONTINUE
    if text.startswith("pipeline:"):
        return Fired(ResultAction.PIPELINE, text[len("pipeline:"):].strip(), prompt, message)
    return Fired(ResultAction(text), None, prompt, message)


class MatchError(Exception):
    """A matcher that cannot be evaluated (``ail:condition/invalid``)."""


def _target(entry: TurnEntry) -> str:
    if entry.response is not None:
        return entry.response
    return entry.stdout or ""


def _matches(
    matcher: ResultBranch | ResultSwitch,
    step: Step,
    entry: TurnEntry,
    render: Callable[[str], str],
) -> bool:
    written = matcher.model_fields_set
    if "contains" in written and matcher.contains is not None:
        return matcher.contains.lower() in _target(entry).lower()
    if "starts_with" in written and matcher.starts_with is not None:
        return _target(entry).lower().startswith(matcher.starts_with.lower())
    if "is_empty" in written:
        empty = not _target(entry).strip()
        return empty if matcher.is_empty is not False else not empty
    if "exit_code" in written:
        if entry.exit_code is None:
            return False
        if matcher.exit_code == "any":
            return entry.exit_code != 0
        return entry.exit_code == matcher.exit_code
    if "matches" in written and matcher.matches is not None:
        if entry.response is None:
            raise MatchError(f"Step '{step.id}' on_result matches needs a response; shell steps "
                             "have none (use expression: '{{ step.<id>.stdout }} matches /…/')")
        return parse_regex_literal(matcher.matches).search(entry.response)
    if "expression" in written and matcher.expression is not None:
        try:
            return evaluate(parse_condition(matcher.expression), render)
        except LookupError as exc:
            raise MatchError(f"Step '{step.id}' on_result expression: {exc}") from None
    return "always" in written


def evaluate_on_result(
    step: Step,
    entry: TurnEntry,
    render: Callable[[str], str],
    preceding_output: str | None,
    is_join: bool = False,
) -> Fired | None:
    """The action to take, or None when no branch matches."""
    spec = step.on_result
    if spec is None:
        return None
    if isinstance(spec, list):
        for branch in spec:
            if _matches(branch, step, entry, render):
                return fired(branch.action, branch.prompt, branch.message)
        return None
    if "field" in spec.model_fields_set:
        matched = False
        if not is_join and preceding_output is not None:
            try:
                data = json.loads(preceding_output)
            except ValueError:
                data = None
            matched = isinstance(data, dict) and spec.field in data and (
                data[spec.field] == spec.equals
                and type(data[spec.field]) is type(spec.equals)
            )
    else:
        matched = _matches(spec, step, entry, render)
    arm = spec.if_true if matched else spec.if_false
    if arm is None:
        return None
    return fired(arm.action, arm.prompt, arm.message)
