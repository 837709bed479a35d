"""The plan view: the steps in order, their kind and condition, and the parallel shape."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from ail_tui.pipeline.loader import Pipeline
from ail_tui.runners.availability import RunnerCheck
from ail_tui.tui.run_view import StepRow, step_kind


def render_runners(checks: list[RunnerCheck] | None) -> Text:
    """One line per runner the pipeline needs: ✓ or ✗, and what to know about it."""
    out = Text("runners: ", style="bold")
    if checks is None:
        out.append("checking…", style="dim")
    elif not checks:
        out.append("none needed", style="dim")
    for check in checks or ():
        out.append("\n  ")
        if check.available:
            out.append(f"✓ {check.name}", style="green")
        else:
            out.append(f"✗ {check.name} unavailable", style="bold red")
        out.append(f"  {check.detail}", style="dim" if check.available else "red")
    return out


def render_plan(pipeline: Pipeline | None, checks: list[RunnerCheck] | None = None) -> Text:
    """Sequential steps on the spine; async branches indented with their depends_on."""
    if pipeline is None:
        return Text("No valid pipeline loaded yet.", style="dim")
    out = Text()
    cap = pipeline.defaults.max_concurrency
    out.append(f"{len(pipeline.steps)} steps · max_concurrency "
               f"{cap if cap else 'unlimited'}\n", style="bold")
    out.append_text(render_runners(checks))
    out.append("\n\n")
    for step in pipeline.steps:
        kind = step_kind(step)
        if step.async_:
            deps = f" ← {', '.join(step.depends_on)}" if step.depends_on else ""
            out.append("  ├─◇ ", style="cyan")
            out.append(f"{step.id}", style="bold cyan")
            out.append(f"  [{kind}, async]{deps}", style="cyan")
        elif step.is_join:
            mode = step.on_error or "fail_fast"
            out.append("  ╰─▣ ", style="magenta")
            out.append(f"{step.id}", style="bold magenta")
            out.append(f"  [join {mode}] ⇐ {', '.join(step.depends_on or [])}",
                       style="magenta")
        else:
            out.append("● ", style="green")
            out.append(f"{step.id}", style="bold")
            out.append(f"  [{kind}]")
            if step.depends_on:
                out.append(f" waits for {', '.join(step.depends_on)}", style="dim")
        if step.condition and step.condition.strip() not in ("", "always"):
            out.append(f"  if {step.condition}", style="yellow")
        if step.disabled:
            out.append("  (disabled)", style="dim")
        out.append("\n")
    if pipeline.pipelines:
        out.append("\nnamed pipelines: " + ", ".join(pipeline.pipelines) + "\n", style="dim")
    return out


def render_known_steps(shown: str, rows: Iterable[StepRow]) -> Text:
    """No pipeline file is open, only ``shown`` (a log, a run): the steps known from it."""
    out = Text(f"No pipeline file open — this dashboard shows {shown} only "
               "(ail-tui PIPELINE opens a pipeline).\n", style="dim")
    rows = list(rows)
    if not rows:
        return out
    out.append(f"\nsteps known from {shown}:\n", style="bold")
    for row in rows:
        out.append("● ", style="green")
        out.append(row.step_id, style="bold")
        out.append(f"  [{row.kind}]\n")
    return out


class Plan(Static):
    """The shape of the run before it starts."""

    DEFAULT_CSS = "Plan { height: auto; }"
