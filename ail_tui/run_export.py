"""A run's summary written out: Markdown for people, JSON (``ail-tui-run-summary/1``) for
programs, and the file they go to (no Textual here)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

from ail_tui.run_summary import (
    RunSummary,
    StepSummary,
    cost_text,
    problem_text,
    seconds_text,
)
from ail_tui.turnlog.timestamps import format_timestamp

SCHEMA = "ail-tui-run-summary/1"
Format = Literal["markdown", "json"]
SUFFIXES: dict[Format, str] = {"markdown": ".md", "json": ".json"}


def default_path(run_id: str | None, fmt: Format, folder: Path) -> Path:
    """Where an export goes unless the person says otherwise: ``ail-run-<id8>.md`` (or
    ``.json``) in ``folder``."""
    return folder / f"ail-run-{(run_id or 'none')[:8]}{SUFFIXES[fmt]}"


def format_of(path: str | os.PathLike[str]) -> Format:
    """The format a file name asks for: JSON for ``.json``, else Markdown."""
    return "json" if Path(path).suffix.lower() == ".json" else "markdown"


def render(summary: RunSummary, fmt: Format) -> str:
    """The summary in ``fmt``."""
    return render_json(summary) if fmt == "json" else render_markdown(summary)


def write_export(summary: RunSummary, fmt: Format, path: Path) -> Path:
    """Write the summary to ``path`` whole or not at all (a temporary file renamed over
    it); its folders are made. Returns the absolute path written."""
    path = path.expanduser().absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial",
                                       dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(render(summary, fmt))
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return path


def render_json(summary: RunSummary) -> str:
    """The summary as JSON: ``{"schema": "ail-tui-run-summary/1", ...}``, keys sorted."""
    data: dict[str, Any] = {"schema": SCHEMA, **summary.model_dump(mode="json")}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_json(text: str) -> RunSummary:
    """A summary back from :func:`render_json`; ValueError for another schema."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ValueError(f"not an {SCHEMA} document")
    return RunSummary.model_validate({k: v for k, v in data.items() if k != "schema"})


def render_markdown(summary: RunSummary) -> str:
    """The summary as a Markdown document: how the run ended, its critical path, its
    runners, its steps, what went wrong and every step's response."""
    parts = [_heading(summary), _critical_path(summary), _runners(summary),
             _steps(summary)]
    if summary.problems:
        parts.append(_problems(summary.problems))
    parts.append(_responses(summary.steps))
    return "\n\n".join(parts) + "\n"


def _heading(summary: RunSummary) -> str:
    title = f"# Run {(summary.run_id or 'not started')[:8]} — {summary.status}"
    status = f"**{summary.status}**"
    if summary.error:
        kind = f" ({summary.error_type})" if summary.error_type else ""
        status += f" — {_one_line(summary.error)}{kind}"
    counts = ", ".join(f"{n} {word}" for word, n in summary.counts.items()) or "none"
    tokens_in = sum(r.input_tokens for r in summary.runners)
    tokens_out = sum(r.output_tokens for r in summary.runners)
    lines = [title, ""]
    if summary.pipeline:
        lines.append(f"- Pipeline: `{summary.pipeline}`")
    lines += [f"- Run: `{summary.run_id or '—'}`", f"- Status: {status}"]
    if summary.started_at is not None:
        lines.append(f"- Started: {format_timestamp(summary.started_at)}")
    lines += [f"- Wall time: {seconds_text(summary.wall_seconds)}",
              f"- Steps: {counts}",
              f"- Cost: {cost_text(summary.cost_usd)} · tokens: {tokens_in:,} in, "
              f"{tokens_out:,} out"]
    return "\n".join(lines)


def _critical_path(summary: RunSummary) -> str:
    if not summary.critical_path:
        return "## Critical path\n\nNo step finished."
    rows = [[str(number), f"`{step.step_id}`", f"+{seconds_text(step.offset)}",
             seconds_text(step.duration)]
            for number, step in enumerate(summary.critical_path, 1)]
    rows.append(["", "**total**", "", f"**{seconds_text(summary.critical_seconds)}** of "
                 f"{seconds_text(summary.wall_seconds)} wall"])
    return "## Critical path\n\n" + _table(["#", "Step", "Starts", "Duration"], rows,
                                            right=(2, 3))


def _runners(summary: RunSummary) -> str:
    rows = [[r.runner, r.model or "—", str(r.steps), cost_text(r.cost_usd),
             f"{r.input_tokens:,}", f"{r.output_tokens:,}"] for r in summary.runners]
    return "## By runner\n\n" + _table(
        ["Runner", "Model", "Steps", "Cost", "Input tokens", "Output tokens"], rows,
        right=(2, 3, 4, 5))


def _steps(summary: RunSummary) -> str:
    rows = [[f"`{s.step_id}`", s.kind, s.status, seconds_text(s.elapsed), str(s.attempts),
             s.runner, cost_text(s.cost_usd), f"{s.input_tokens:,}", f"{s.output_tokens:,}"]
            for s in summary.steps]
    return "## Steps\n\n" + _table(
        ["Step", "Kind", "Status", "Elapsed", "Attempts", "Runner", "Cost", "Input tokens",
         "Output tokens"], rows, right=(3, 4, 6, 7, 8))


def _problems(problems: list[StepSummary]) -> str:
    lines = ["## Failed and cancelled", ""]
    for step in problems:
        lines.append(f"- `{step.step_id}` ({step.status}): {_one_line(problem_text(step))}")
    return "\n".join(lines)


def _responses(steps: tuple[StepSummary, ...]) -> str:
    answered = [step for step in steps if step.response]
    if not answered:
        return "## Responses\n\nNo step answered."
    blocks = ["## Responses"]
    for step in answered:
        text = step.response or ""
        fence = "`" * max(3, _longest_backticks(text) + 1)
        blocks.append(f"### `{step.step_id}`\n\n{fence}text\n{text.rstrip()}\n{fence}")
    return "\n\n".join(blocks)


def _table(head: list[str], rows: list[list[str]], right: tuple[int, ...] = ()) -> str:
    rule = ["---:" if index in right else "---" for index in range(len(head))]
    lines = [head, rule, *[[_cell(cell) for cell in row] for row in rows]]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)
