"""Load-time validation of a pipeline (brief §3, decisions P7, L1, L4).

:func:`check_file` loads a pipeline and reports every independent problem in one
pass, each with its ``error_type``, ``detail``, step and source position.
"""

from __future__ import annotations

import os
from pathlib import Path

from ail_tui.gc_control import gc_paused
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.loader import LoadResult, Pipeline, load_pipeline, resolve_path
from ail_tui.pipeline.models import Step
from ail_tui.pipeline.source import Position
from ail_tui.pipeline.validation.findings import Findings
from ail_tui.pipeline.validation.parallel import check_parallel
from ail_tui.pipeline.validation.references import check_exit_when, check_references
from ail_tui.pipeline.validation.sampling import check_sampling
from ail_tui.pipeline.validation.schemas import check_adjacent_schemas
from ail_tui.pipeline.validation.scope import (
    MAX_LOOP_DEPTH,
    Anchor,
    Context,
    Loop,
    StepList,
    recorded_ids,
)
from ail_tui.pipeline.validation.steps import check_step_fields
from ail_tui.pipeline.validation.unknown_keys import check_unknown_keys

__all__ = ["MAX_LOOP_DEPTH", "check_file", "validate_pipeline"]

MAX_LOOP_FILE_STEPS = 10_000
"""Steps of loop pipeline files checked in one pass, each visit counted (files that loop
over each other multiply)."""


def check_file(path: str | os.PathLike[str]) -> LoadResult:
    """Load a pipeline file and check every load-time rule; collect all findings."""
    with gc_paused():
        result = load_pipeline(path)
        if result.pipeline is None:
            return result
        findings = Findings(list(result.diagnostics))
        ctx = Context(result.pipeline, findings)
        validate_pipeline(ctx)
    files = list(dict.fromkeys([*result.files, *sorted(ctx.referenced_files)]))
    return LoadResult(result.pipeline, findings.items, files)


def validate_pipeline(ctx: Context) -> None:
    """Run every rule over a loaded pipeline, reporting into ``ctx.findings``."""
    pipeline, findings = ctx.pipeline, ctx.findings
    top = Position(str(pipeline.source), 1, 1)
    defaults = pipeline.defaults
    check_sampling(defaults.sampling, "defaults", findings)
    if defaults.provider is not None:
        check_sampling(defaults.provider.sampling, "defaults.provider", findings)
    if defaults.max_concurrency is not None and defaults.max_concurrency < 0:
        findings.error(
            f"defaults.max_concurrency must be 0 (unlimited) or more; got "
            f"{defaults.max_concurrency}",
            defaults.pos("max_concurrency"),
        )
    if pipeline.document is not None:
        check_unknown_keys(pipeline.document, findings)
    if pipeline.version is None or not pipeline.version.strip():
        findings.error(
            "The 'version' field is required" + ("" if pipeline.version is None else
                                                 " and must not be blank"),
            pipeline.version_pos or top,
        )
    if not pipeline.steps and not pipeline.has_steps_errors:
        findings.error(
            "The 'pipeline' array is required and must contain at least one step",
            pipeline.pipeline_pos or top,
        )
    for index, step in enumerate(pipeline.steps):
        if step.id == "invocation" and index > 0:
            findings.error(
                "The 'invocation' step, if declared, must be the first step in the pipeline "
                "(SPEC §4.1)",
                step.pos("id"),
                step.id,
            )
    for steps in [pipeline.steps, *pipeline.pipelines.values()]:
        for step in steps:
            ctx.all_ids |= recorded_ids(step)
    _check_list(ctx, StepList("pipeline", tuple(pipeline.steps)), depth=0)
    for name, steps in pipeline.pipelines.items():
        where = pipeline.pipelines_pos.get(name)
        if not name.strip():
            findings.error("Named pipelines must have a non-empty name", where)
        if not steps:
            findings.error(f"Named pipeline '{name}' must contain at least one step", where)
        _check_list(ctx, StepList(f"pipeline '{name}'", tuple(steps)), depth=0)
    _check_named_cycles(ctx)


def _check_ids(ctx: Context, steps: StepList) -> None:
    seen: set[str] = set()
    for step in steps.steps:
        if step.id is None and not step.hooks():
            ctx.findings.error(f"Every step in {steps.label} must declare an 'id' field",
                               step.pos())
        elif step.id in seen:
            ctx.findings.error(f"Step id '{step.id}' appears more than once in {steps.label}",
                               step.pos("id"), step.id)
        elif step.id is not None:
            seen.add(step.id)


def _check_list(ctx: Context, steps: StepList, depth: int) -> None:
    _check_ids(ctx, steps)
    for index, step in enumerate(steps.steps):
        anchor = Anchor(steps, index)
        check_step_fields(step, ctx.findings, ctx.pipeline.has_from)
        check_unknown_keys(step, ctx.findings)
        check_references(ctx, step, anchor)
        _check_chains(ctx, step)
        _check_loop_body(ctx, step, anchor, depth)
    check_adjacent_schemas(steps.steps, ctx.findings)
    check_parallel(steps.steps, ctx.findings)


def _check_chains(ctx: Context, step: Step) -> None:
    """The fields of ``step``'s chain steps, and of the chains nested in them."""
    for chain in (step.before or [], step.then or []):
        for entry in chain:
            if isinstance(entry, Step):
                check_step_fields(entry, ctx.findings, True, chain=True)
                _check_chains(ctx, entry)


def _check_loop_body(ctx: Context, step: Step, anchor: Anchor, depth: int) -> None:
    loop = step.do_while or step.for_each
    if loop is None or step.id is None:
        return
    kind = "do_while" if step.do_while is not None else "for_each"
    body = loop.steps
    text = loop.pipeline if body is None else None
    if not body and text is None:
        return
    if depth + 1 > MAX_LOOP_DEPTH:  # found before the body is read or checked
        ctx.findings.error(
            f"Step '{step.id}' nests loops deeper than {MAX_LOOP_DEPTH} levels",
            step.pos(kind), step.id, ErrorType.LOOP_DEPTH_EXCEEDED,
        )
        return
    file = None
    if text is not None:
        file = _loop_file_path(ctx, text)
        body = _load_loop_file(ctx, step, kind, file, text, loop.pos("pipeline"), anchor)
    if not body:
        return
    item_name = step.for_each.as_ if step.for_each is not None else None
    inner = StepList(
        f"{kind} step '{step.id}'",
        tuple(body),
        prefix=f"{anchor.steps.prefix}{step.id}::",
        loops=(*anchor.steps.loops, Loop(kind, step.id, item_name)),
        parent=anchor,
        sequential=True,
        file=file,
    )
    _check_list(ctx, inner, depth + 1)
    check_exit_when(ctx, step, Anchor(inner, len(body)))


def _loop_file_path(ctx: Context, text: str) -> Path:
    if text.startswith("/"):
        path = Path(text)
    elif text.startswith("~"):
        path = Path(os.path.expanduser(text))
    else:
        path = resolve_path(text, ctx.pipeline.directory)
    return Path(os.path.abspath(path))


def _load_loop_file(ctx: Context, step: Step, kind: str, path: Path, text: str,
                    where: Position | None, anchor: Anchor) -> list[Step] | None:
    """The steps of a loop's pipeline file, each file read once per pass.

    A file that is already open around this loop would run itself again until the
    loop depth limit, so that is reported at once instead of being spelled out.
    """
    ctx.referenced_files.add(path)
    label = f"Step '{step.id}' {kind} pipeline file '{text}'"
    if path == ctx.pipeline.source or any(level.steps.file == path for level in anchor.chain()):
        ctx.findings.error(
            f"{label} is already open around this step: the loop would run its own file "
            f"again until loops nest deeper than {MAX_LOOP_DEPTH} levels",
            where, step.id, ErrorType.LOOP_DEPTH_EXCEEDED,
        )
        return None
    result = ctx.loop_files.get(path)
    if result is None:
        result = ctx.loop_files[path] = load_pipeline(path)
        ctx.referenced_files.update(result.files)
        if not result.unreadable:
            ctx.findings.items.extend(result.diagnostics)
    if result.pipeline is None:
        for problem in result.unreadable:
            ctx.findings.error(f"{label}: {problem.detail}", where, step.id,
                               ErrorType.FILE_NOT_FOUND)
        return None
    steps = result.pipeline.steps
    if not steps:
        ctx.findings.error(f"{label} has no steps", where, step.id)
        return None
    if ctx.loop_file_steps > MAX_LOOP_FILE_STEPS:
        return None  # reported once, where the limit was passed
    ctx.loop_file_steps += len(steps)
    if ctx.loop_file_steps > MAX_LOOP_FILE_STEPS:
        ctx.findings.error(
            f"{label}: loop pipeline files add more than {MAX_LOOP_FILE_STEPS:,} steps to "
            "check in all; the rest of them are not checked",
            where, step.id,
        )
        return None
    return steps


def _named_calls(pipeline: Pipeline, steps: list[Step]) -> list[str]:
    calls: list[str] = []
    for step in steps:
        if step.pipeline is not None and step.pipeline in pipeline.pipelines:
            calls.append(step.pipeline)
        loop = step.do_while or step.for_each
        if loop is not None and loop.steps:
            calls += _named_calls(pipeline, loop.steps)
    return calls


def _check_named_cycles(ctx: Context) -> None:
    """Report cycles among named pipelines: one depth-first walk, each call followed once."""
    pipeline = ctx.pipeline
    calls = {name: _named_calls(pipeline, steps) for name, steps in pipeline.pipelines.items()}
    reported: set[str] = set()
    done: set[str] = set()
    for start in calls:
        if start in done:
            continue
        path, pending = [start], [iter(calls[start])]
        while pending:
            callee = next(pending[-1], None)
            if callee is None:
                done.add(path.pop())
                pending.pop()
            elif callee in path:
                cycle = [*path[path.index(callee):], callee]
                key = min(cycle[:-1])
                if key not in reported:
                    reported.add(key)
                    ctx.findings.error(
                        "Circular reference between named pipelines: " + " -> ".join(cycle),
                        pipeline.pipelines_pos.get(cycle[0]),
                        error_type=ErrorType.CIRCULAR_REFERENCE,
                    )
            elif callee not in done:
                path.append(callee)
                pending.append(iter(calls.get(callee, ())))
