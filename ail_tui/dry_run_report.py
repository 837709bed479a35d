"""``ail-tui run PIPELINE --dry-run``'s output: the plan of :mod:`ail_tui.dry_run` as
indented text or JSON, secrets masked."""

from __future__ import annotations

import json
import os
import sys

from ail_tui.credentials import SecretSet
from ail_tui.dry_run import AT_RUN_TIME, FAILS, RUNS, SKIPPED, DryRun, PlannedStep, plan_dry_run
from ail_tui.pipeline.validation import check_file
from ail_tui.report import display_path, is_unreadable, report_json, report_text

_DECISIONS = {RUNS: "holds now: runs", SKIPPED: "does not hold: skipped",
              AT_RUN_TIME: "decided at run time", FAILS: "would fail"}


def _block(label: str, text: str, indent: str) -> list[str]:
    lines = text.splitlines() or [""]
    if len(lines) == 1:
        return [f"{indent}{label}: {lines[0]}"]
    return [f"{indent}{label}:", *(f"{indent}  | {line}" for line in lines)]


def _step_lines(plan: PlannedStep, number: str, indent: str) -> list[str]:
    head = [f"{number}{'' if number == '-' else '.'} {plan.id} [{plan.kind}]"]
    if plan.runner is not None:
        head.append(f"runner {plan.runner}, model {plan.model or 'the runner default'}")
    if plan.group is not None:
        head.append(f"async in group {plan.group}")
    if plan.depends_on:
        head.append("after " + ", ".join(plan.depends_on))
    out = [indent + " · ".join(head)]
    inner = indent + "   "
    if plan.condition is not None:
        c = plan.condition
        shown = c.text if c.resolved == c.text else f"{c.text}  ⇒  {c.resolved}"
        out.append(f"{inner}condition: {shown} ({_DECISIONS[c.decision]})")
    for label, text in (("message", plan.message), ("system prompt", plan.system_prompt)):
        if text is not None:
            out += _block(label, text, inner)
    for text in plan.append_system_prompt:
        out += _block("appended system prompt", text, inner)
    if plan.command is not None:
        out += _block("shell", plan.command, inner)
    if plan.pipeline is not None:
        shown = display_path(plan.pipeline) if os.path.isabs(plan.pipeline) else plan.pipeline
        out.append(f"{inner}pipeline: {shown}")
    if plan.prompt is not None:
        out += _block("prompt", plan.prompt, inner)
    if plan.loop is not None:
        out += _loop_lines(plan, inner)
    if plan.on_error is not None:
        out.append(f"{inner}on_error: {plan.on_error}")
    if plan.on_result:
        out.append(f"{inner}on_result: " + "; ".join(plan.on_result))
    out += [f"{inner}note: {note}" for note in plan.notes]
    out += [f"{inner}! would fail: {problem}" for problem in plan.problems]
    for label, chain in (("before", plan.before), ("then", plan.then)):
        if chain:
            out.append(f"{inner}{label}:")
        out += [line for entry in chain for line in _step_lines(entry, "-", inner + "  ")]
    for index, child in enumerate(plan.steps, 1):
        out += _step_lines(child, f"{number}.{index}", inner)
    return out


def _loop_lines(plan: PlannedStep, indent: str) -> list[str]:
    loop = plan.loop
    assert loop is not None
    if loop.exit_when is not None:
        c = loop.exit_when
        return [f"{indent}repeats up to {loop.max_iterations} times until {c.resolved} "
                f"({_DECISIONS[c.decision]})"]
    items = f"{loop.items} items" if loop.items is not None else "items known at run time"
    return [f"{indent}for each {loop.item_name or 'item'} in {loop.over} ({items})"]


def format_text(dry: DryRun) -> str:
    """The dry run as indented text, one block per step."""
    lines = [f"Dry run of {display_path(dry.pipeline)}: nothing runs, no turn log is written",
             f"runner {dry.runner}, model {dry.model or 'from the pipeline'}, "
             + ("invocation prompt given" if dry.prompt is not None else
                "no invocation prompt (--prompt)")
             + (f", at most {dry.max_concurrency} steps at once" if dry.max_concurrency else "")]
    for index, plan in enumerate(dry.steps, 1):
        lines += _step_lines(plan, str(index), "")
    return "\n".join(lines) + "\n"


def dry_run_command(path: str, *, prompt: str | None, runner: str | None, model: str | None,
                    output_format: str) -> int:
    """``run PIPELINE --dry-run``: 0 with the plan, 1 with the errors of an invalid
    pipeline, 2 when the file cannot be read."""
    result = check_file(path)
    if result.pipeline is None or not result.valid:
        if output_format == "json":
            sys.stdout.write(json.dumps(report_json(result), indent=2, ensure_ascii=False) + "\n")
        else:
            sys.stderr.write(report_text(result, display_path(path)))
        return 2 if is_unreadable(result) else 1
    dry = plan_dry_run(result.pipeline, prompt=prompt, runner=runner, model=model)
    secrets = SecretSet()
    secrets.add_environment()
    if result.pipeline.defaults.provider is not None:
        secrets.add(result.pipeline.defaults.provider.auth_token)
    if output_format == "json":
        text = json.dumps(secrets.redact_value(dry.to_json()), indent=2, ensure_ascii=False)
        sys.stdout.write(text + "\n")
    else:
        sys.stdout.write(secrets.redact(format_text(dry)))
    return 0
