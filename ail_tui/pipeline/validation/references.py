"""Templates in a step: syntax, variable names, step references and §29.6 paths (P7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from ail_tui.files import FileReadError, FileRefused, read_text_file
from ail_tui.pipeline.conditions import (
    ConditionSyntaxError,
    parse_condition,
    parse_exit_when,
    templates_in,
)
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.loader import is_file_reference, resolve_path
from ail_tui.pipeline.models import Node, Step
from ail_tui.pipeline.regex_literal import RegexLiteralError
from ail_tui.pipeline.source import Position
from ail_tui.pipeline.templates import TemplateSyntaxError, parse_template, parse_variable
from ail_tui.pipeline.validation.scope import Anchor, Context


def _offset_position(ctx: Context, position: Position | None, text: str, offset: int,
                     ) -> Position | None:
    """The position of ``text[offset]`` when ``text`` is written on one line at ``position``."""
    if position is None or "\n" in text[:offset]:
        return position
    line = ctx.source_line(position.file, position.line)
    if line is None:
        return position
    start = position.column - 1
    for shift in (0, 1):  # plain, or quoted
        if line[start + shift:].startswith(text[: offset + 2]):
            return Position(position.file, position.line, position.column + shift + offset)
    return position


def _file_position(path: Path, text: str, offset: int) -> Position:
    before = text[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return Position(str(path), line, column)


class _Text:
    """One templated text of a step and where it is written."""

    def __init__(self, text: str, position: Position | None, what: str,
                 in_file: Path | None = None) -> None:
        self.text, self.position, self.what, self.in_file = text, position, what, in_file


def _templated_texts(ctx: Context, step: Step) -> Iterator[_Text]:
    """Every text of ``step`` that is templated at run time (brief §4: not shell, not message;
    but ``reconcile.shell`` is, decisions D3)."""
    for name in ("prompt", "system_prompt"):
        value = getattr(step, name)
        if value is None:
            continue
        if is_file_reference(value):
            yield from _file_text(ctx, step, value, step.pos(name), name)
        else:
            yield _Text(value, step.pos(name), name)
    if step.pipeline is not None and step.pipeline not in ctx.pipeline.pipelines:
        yield _Text(step.pipeline, step.pos("pipeline"), "pipeline path")
    for index, entry in enumerate(step.append_system_prompt or ()):
        where = step.item_pos("append_system_prompt", index)
        if isinstance(entry, str):
            yield _Text(entry, where, "append_system_prompt")
        else:
            for key in ("text", "file", "shell"):
                value = getattr(entry, key)
                if value is not None:
                    yield _Text(value, entry.pos(key), f"append_system_prompt {key}")
    if isinstance(step.on_result, list):
        for branch in step.on_result:
            if branch.prompt is not None:
                yield _Text(branch.prompt, branch.pos("prompt"), "on_result prompt")
    elif step.on_result is not None:
        for arm in (step.on_result.if_true, step.on_result.if_false):
            if arm is not None and arm.prompt is not None:
                yield _Text(arm.prompt, arm.pos("prompt"), "on_result prompt")
    if step.reconcile is not None and step.reconcile.shell is not None:
        yield _Text(step.reconcile.shell, step.reconcile.pos("shell"), "reconcile shell")
    if step.for_each is not None and step.for_each.over is not None:
        yield _Text(step.for_each.over, step.for_each.pos("over"), "for_each over")


def _file_text(ctx: Context, step: Step, value: str, where: Position | None, what: str,
               ) -> Iterator[_Text]:
    if "{{" in value:
        return
    path = resolve_path(value, ctx.pipeline.directory)
    ctx.referenced_files.add(path)
    try:
        content = read_text_file(path)
    except FileRefused as exc:
        ctx.findings.error(f"{step.label} {what} file '{value}' could not be read: {exc}",
                           where, step.id, ErrorType.FILE_NOT_FOUND)
        return
    except FileReadError as exc:
        ctx.findings.warning(
            f"{step.label} {what} file '{value}' could not be read ({exc}); the step "
            "will fail when it runs",
            where,
            step.id,
            ErrorType.FILE_NOT_FOUND,
        )
        return
    yield _Text(content, where, f"{what} file", in_file=path)


def _condition_texts(step: Step) -> Iterator[tuple[str, Node, str, bool]]:
    """(text, owner, key, is_exit_when) for every condition-grammar text of a step."""
    if step.condition is not None:
        yield step.condition, step, "condition", False
    if isinstance(step.on_result, list):
        for branch in step.on_result:
            if branch.expression is not None:
                yield branch.expression, branch, "expression", False
    elif step.on_result is not None and step.on_result.expression is not None:
        yield step.on_result.expression, step.on_result, "expression", False


def check_references(ctx: Context, step: Step, anchor: Anchor) -> None:
    """Check every template of ``step`` as read from ``anchor``."""
    for item in _templated_texts(ctx, step):
        _check_template(ctx, step, anchor, item.text, item.position, item.what, item.in_file,
                        ErrorType.UNRESOLVED_VARIABLE)
    for text, owner, key, _ in _condition_texts(step):
        _check_condition_templates(ctx, step, anchor, text, owner.pos(key), key, False)
    for index, entry in enumerate((step.before or []) + (step.then or [])):
        if isinstance(entry, str):
            where = step.pos("before" if index < len(step.before or []) else "then")
            if is_file_reference(entry):
                for item in _file_text(ctx, step, entry, where, "chain prompt"):
                    _check_template(ctx, step, anchor, item.text, item.position, item.what,
                                    item.in_file, ErrorType.UNRESOLVED_VARIABLE)
            else:
                _check_template(ctx, step, anchor, entry, where, "chain prompt", None,
                                ErrorType.UNRESOLVED_VARIABLE)
        else:
            check_references(ctx, entry, anchor)


def check_exit_when(ctx: Context, step: Step, body_anchor: Anchor) -> None:
    """Templates of a do_while's exit_when, read after its body ran."""
    loop = step.do_while
    if loop is not None and loop.exit_when is not None:
        _check_condition_templates(ctx, step, body_anchor, loop.exit_when,
                                   loop.pos("exit_when"), "exit_when", True)


def _check_condition_templates(ctx: Context, step: Step, anchor: Anchor, text: str,
                               where: Position | None, what: str, exit_when: bool) -> None:
    try:
        condition = parse_exit_when(text) if exit_when else parse_condition(text)
    except (ConditionSyntaxError, RegexLiteralError):
        return  # reported by the step rules
    for side in templates_in(condition):
        offset = text.find(side)
        _check_template(ctx, step, anchor, side, _offset_position(ctx, where, text, offset)
                        if offset >= 0 else where, what, None, ErrorType.CONDITION_INVALID)


def _check_template(ctx: Context, step: Step, anchor: Anchor, text: str,
                    where: Position | None, what: str, in_file: Path | None,
                    error_type: str) -> None:
    def at(offset: int) -> Position | None:
        if in_file is not None:
            return _file_position(in_file, text, offset)
        return _offset_position(ctx, where, text, offset)

    try:
        template = parse_template(text)
    except TemplateSyntaxError as exc:
        ctx.findings.error(f"{step.label} {what}: {exc}", at(exc.offset), step.id,
                           error_type)
        return
    for placeholder in template.placeholders:
        problem = _variable_problem(ctx, step, anchor, placeholder.variable)
        if problem is None:
            continue
        detail = f"{step.label} {what}: {problem.detail}"
        if problem.warning:
            ctx.findings.warning(detail, at(placeholder.start), step.id, error_type)
        else:
            ctx.findings.error(detail, at(placeholder.start), step.id,
                               problem.error_type or error_type)


class _Problem(NamedTuple):
    """What is wrong with reading a variable: a warning, or an error (of its own type when
    it breaks a load rule rather than naming a variable that cannot resolve)."""

    detail: str
    warning: bool = False
    error_type: str | None = None


def _variable_problem(ctx: Context, step: Step, anchor: Anchor, name: str,
                      ) -> _Problem | None:
    """What is wrong with reading variable ``name`` here (None: nothing)."""
    ref = parse_variable(name)
    kind = ref.kind.name
    if kind == "UNKNOWN":
        return _Problem(ref.problem or f"'{{{{ {name} }}}}' is not a recognised template "
                        "variable")
    loops = anchor.steps.loops
    if kind == "DO_WHILE" and not any(loop.kind == "do_while" for loop in loops):
        return _Problem(f"'{{{{ {name} }}}}' is only available inside a do_while loop")
    if kind == "FOR_EACH":
        enclosing = [loop for loop in loops if loop.kind == "for_each"]
        if not enclosing:
            return _Problem(f"'{{{{ {name} }}}}' is only available inside a for_each loop")
        names = {"index", "total", "item"} | {lp.item_name for lp in enclosing if lp.item_name}
        if ref.field not in names:
            return _Problem(f"'{{{{ {name} }}}}' is not a for_each variable (use index, total, "
                            "item" + "".join(f", {lp.item_name}" for lp in enclosing
                                             if lp.item_name) + ")")
    if kind != "STEP" or ref.step_id is None or ref.step_id == "invocation":
        return None
    return _step_reference_problem(ctx, step, anchor, name, ref.step_id)


def _step_reference_problem(ctx: Context, step: Step, anchor: Anchor, name: str,
                            target: str) -> _Problem | None:
    if step.id is not None and target == step.id:
        return None  # on_result reading the step's own output
    visible = False
    for level in anchor.chain():
        if level.steps.recorded_before(target, level.index):
            visible = True
            break
        own = level.steps.steps[level.index] if level.index < len(level.steps.steps) else None
        if level is not anchor and own is not None and own.id == target:
            visible = True  # a loop body reading its own loop's earlier state
            break
    if not visible:
        if target in ctx.all_ids:
            return _Problem(f"'{{{{ {name} }}}}' refers to step '{target}', which has not run "
                            "yet at this point (it is declared later)", warning=True)
        return _Problem(f"'{{{{ {name} }}}}' refers to step '{target}', which is not declared "
                        "in this pipeline", warning=True)
    problem = _async_path_problem(anchor, name, target)
    if problem is None:
        return None
    return _Problem(problem, error_type=ErrorType.VALIDATION_FAILED)  # a §29 rule, like the others


def _async_path_problem(anchor: Anchor, name: str, target: str) -> str | None:
    """P7: reading an async step needs a dependency path to it (SPEC §29.6)."""
    for level in anchor.chain():
        steps = level.steps
        if steps.sequential:
            continue
        index = steps.recorded_at.get(target)
        if index is None or steps.steps[index].id != target:
            continue
        if not steps.steps[index].async_ or index >= level.index:
            return None
        reader = steps.steps[level.index]
        if reader.id is not None and steps.closure.depends(reader.id, target):
            return None
        if steps.settled_at.get(target, level.index) < level.index:
            return None
        return (f"'{{{{ {name} }}}}' reads async step '{target}' but step "
                f"'{reader.id}' has no dependency path to it; add '{target}' (or a join that "
                "collects it) to depends_on (SPEC §29.6)")
    return None
