"""Step details: everything known about the selected step, all attempts included.

A search match in the step's texts is revealed: scrolled into view and marked, the
matched text reversed (as in the output pane).
"""

from __future__ import annotations

import json
from datetime import datetime

from rich.text import Text
from textual.containers import ScrollableContainer
from textual.widgets import Static

from ail_tui.tui.run_view import StepRow, TextLine
from ail_tui.tui.runner_notes import retry_text
from ail_tui.tui.widgets.output_view import MARKED_STYLE, MATCH_STYLE, find_all
from ail_tui.tui.widgets.steps_table import dashboard_now


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


def details_text(row: StepRow | None, run_id: str | None = None,
                 now: float | None = None) -> str:
    """The selected step as plain text (what ``y`` copies); ``run_id``: the run's;
    ``now``: the dashboard's clock (a running step's time counts to it)."""
    if row is None:
        return "Select a step to see its details."
    return "\n".join(details_lines(row, run_id, now)[0])


def details_lines(row: StepRow, run_id: str | None = None, now: float | None = None,
                  ) -> tuple[list[str], dict[str, int]]:
    """The lines of :func:`details_text`, and where each searchable text of the step
    (prompt, response, error, thinking, output: see RunView.searchable) begins."""
    lines = [f"{row.step_id} · {row.kind} · {row.label}"]
    origin = origin_line(row, run_id)
    if origin:
        lines.append(origin)
    if row.not_run:
        lines.append(f"not run: {row.not_run}")
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
        ran = row.elapsed(now)
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
    starts: dict[str, int] = {}
    if row.error:
        starts["error"] = len(lines)
        lines.extend(f"error: {row.error}".splitlines())
    lines.extend(row.notes)
    for name, title, body in (("prompt", "resolved prompt", row.prompt),
                              ("thinking", "thinking", row.thinking),
                              ("response", "response", row.response)):
        if body:
            lines += ["", f"── {title} ──"]
            starts[name] = len(lines)
            lines.extend(body.splitlines())  # numbered as search numbers them
    if row.tool_events:
        lines += ["", "── tool calls ──"]
        lines += tool_lines(row.tool_events, row.tool_elapsed)
    if row.output:
        lines += ["", "── output ──"]
        starts["output"] = len(lines) - (row.lines_total - len(row.output))
        lines.extend(row.output)
    return lines, starts


class Details(Static):
    """The selected step in full."""

    DEFAULT_CSS = "Details { height: auto; width: 100%; }"

    _shown: str | None = None
    _mark: tuple[TextLine, str] | None = None
    """A search match (and the text searched for) shown in this pane."""
    _reveal = False  # scroll the mark into view once it is drawn

    def reveal(self, match: TextLine, needle: str) -> None:
        """Mark ``match`` (``needle`` highlighted) and scroll it into view when its step
        is shown next; it stays marked until another match or step."""
        self._mark, self._reveal, self._shown = (match, needle), True, None

    @property
    def mark(self) -> TextLine | None:
        """The search match marked, if any."""
        return self._mark[0] if self._mark else None

    def show(self, row: StepRow | None, run_id: str | None = None) -> None:
        """Redraw for ``row`` (of run ``run_id``); nothing happens when its text is unchanged."""
        lines: list[str] = []
        starts: dict[str, int] = {}
        if row is not None:
            lines, starts = details_lines(row, run_id, dashboard_now(self))
        text = "\n".join(lines) if row is not None else details_text(None)
        mark = self._mark
        if mark is not None and (row is None or row.step_id != mark[0].step_id):
            self._mark = mark = None
        if text == self._shown:
            return
        self._shown = text
        rich = Text(text)
        target = None
        if mark is not None and mark[0].field in starts:
            match, needle = mark
            target = starts[match.field] + match.number
            if not 0 <= target < len(lines):
                target = None  # no longer held (the oldest output lines are dropped)
            else:
                begin = sum(len(line) + 1 for line in lines[:target])
                rich.stylize(MARKED_STYLE, begin, begin + len(lines[target]))
                for start, end in find_all(lines[target], needle):
                    rich.stylize(MATCH_STYLE, begin + start, begin + end)
        self.update(rich)
        if target is not None and self._reveal:
            self._reveal = False
            self.call_after_refresh(self._bring_into_view, lines[:target])

    def _bring_into_view(self, before: list[str]) -> None:
        """Scroll the pane so that the line after ``before`` shows a third of the way down."""
        pane, width = self.parent, self.content_region.width
        if not isinstance(pane, ScrollableContainer) or width <= 0:
            return
        wrapped = len(Text("\n".join(before)).wrap(self.app.console, width)) if before else 0
        height = pane.scrollable_content_region.height
        pane.scroll_to(y=max(wrapped - height // 3, 0), animate=False)
