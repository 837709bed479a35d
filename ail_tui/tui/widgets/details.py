"""Step details: everything known about the selected step, all attempts included."""

from __future__ import annotations

import json
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from ail_tui.tui.run_view import StepRow
from ail_tui.tui.runner_notes import retry_text


def _clock(moment: float | None) -> str:
    if moment is None:
        return "—"
    return datetime.fromtimestamp(moment).strftime("%H:%M:%S.%f")[:-3]


def tool_line(event: dict[str, object], elapsed: dict[str, float] | None = None) -> str:
    """One tool call, result or sub-agent text, from a live runner event or a tool event.

    ✗ marks a tool result that is an error and a call the runner denied; ``elapsed``
    (seconds by tool id) adds a running tool's time.
    """
    kind = event.get("event_type") or event.get("type")
    tool_id = str(event.get("tool_id") or "")
    if kind in ("tool_call", "tool_use"):
        arguments = event.get("content_json", event.get("input", "{}"))
        line = f"→ {event.get('tool_name') or '?'} {arguments}  [{tool_id}]"
        if event.get("denied"):
            line = f"✗ {line} denied"
        seconds = (elapsed or {}).get(tool_id)
        return line if seconds is None else f"{line}  ⏱ {seconds:.1f} s"
    if kind in ("tool_result", "subagent_text"):
        content = str(event.get("content_json", event.get("content", event.get("text", ""))))
        first, *more = content.splitlines() or [""]
        extra = f" (+{len(more)} lines)" if more else ""
        if kind == "subagent_text":
            return f"✎ {first}{extra}"
        mark = "✗ " if event.get("is_error") else ""
        return f"{mark}← {first}{extra}  [{tool_id}]"
    return json.dumps(event, ensure_ascii=False)


def tool_lines(events: list[dict[str, object]],
               elapsed: dict[str, float] | None = None) -> list[str]:
    """The tool events in order, a sub-agent's indented under the call that started it."""
    depth: dict[str, int] = {}
    lines: list[str] = []
    for event in events:
        parent = event.get("parent_tool_id")
        level = depth.get(str(parent), 0) + 1 if parent else 0
        if event.get("event_type", event.get("type")) in ("tool_call", "tool_use"):
            depth[str(event.get("tool_id") or "")] = level
        lines.append("    " * level + tool_line(event, elapsed))
    return lines


RECONCILED = ("recovered by its reconcile command after the run stopped while it was "
              "running (not run again)")


def origin_line(row: StepRow, run_id: str | None = None) -> str | None:
    """Where a result the step did not make came from (None: the step made it)."""
    if row.status == "reused" and row.reused_from:
        if row.reused_from == run_id:  # a resumed run: its own earlier result
            return f"reused from run {row.reused_from}, before it was resumed (not run again)"
        return f"reused from run {row.reused_from} (not run again)"
    if row.status == "reconciled":
        return RECONCILED
    return None


def details_text(row: StepRow | None, run_id: str | None = None) -> str:
    """The selected step as plain text (what ``y`` copies); ``run_id``: the run's."""
    if row is None:
        return "Select a step to see its details."
    lines = [f"{row.step_id} · {row.kind} · {row.glyph} {row.status}"]
    origin = origin_line(row, run_id)
    if origin:
        lines.append(origin)
    if row.api_retry:
        lines.append(retry_text(row.api_retry))
    if row.group:
        lines.append(f"concurrent group: {row.group}")
    if row.depends_on:
        lines.append(f"depends on: {', '.join(row.depends_on)}")
    lines.append(f"launched {_clock(row.launched_at)}  started {_clock(row.started_at)}  "
                 f"completed {_clock(row.completed_at)}")
    if row.launched_at and row.started_at:
        queued = max(row.started_at - row.launched_at, 0.0)
        ran = row.elapsed()
        lines.append(f"queued {queued:.3f}s  ran {ran:.3f}s" if ran is not None
                     else f"queued {queued:.3f}s")
    if row.attempts:
        lines.append(f"attempts: {row.attempts}")
    lines.extend(f"  {entry}" for entry in row.history)
    if row.cost_usd is not None or row.input_tokens or row.output_tokens:
        lines.append(f"cost ${row.cost_usd or 0:.4f}  tokens {row.input_tokens} in / "
                     f"{row.output_tokens} out")
    if row.model:
        lines.append(f"model: {row.model}")
    if row.exit_code is not None:
        lines.append(f"exit code: {row.exit_code}")
    if row.error:
        lines.append(f"error: {row.error}")
    lines.extend(row.notes)
    for title, body in (("resolved prompt", row.prompt), ("thinking", row.thinking),
                        ("response", row.response)):
        if body:
            lines += ["", f"── {title} ──", body]
    if row.tool_events:
        lines += ["", "── tool calls ──"]
        lines += tool_lines(row.tool_events, row.tool_elapsed)
    if row.output:
        lines += ["", "── output ──", *row.output]
    return "\n".join(lines)


class Details(Static):
    """The selected step in full."""

    DEFAULT_CSS = "Details { height: auto; width: 100%; }"

    _shown: str | None = None

    def show(self, row: StepRow | None, run_id: str | None = None) -> None:
        """Redraw for ``row`` (of run ``run_id``); nothing happens when its text is unchanged."""
        text = details_text(row, run_id)
        if text != self._shown:
            self._shown = text
            self.update(Text(text))
