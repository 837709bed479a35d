"""The end-of-run summary: how the run ended, its critical path, cost and tokens by runner,
and what went wrong. It opens on its own when a watched run ends, and on ``s``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from ail_tui.report import display_path
from ail_tui.run_summary import (
    RunSummary,
    cost_text,
    problem_text,
    seconds_text,
    step_runners,
    summarize,
)
from ail_tui.runners.registry import session_default
from ail_tui.tui.run_view import GLYPH

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp

BAR_WIDTH = 24
"""Characters of the bar that places each critical step in the run's wall time."""
ENDED_WELL = frozenset({"completed", "break"})
RUN_GLYPH = {"completed": "✓", "break": "■", "aborted": "✗", "paused": "⏸"}
"""Glyphs of how a run stands, beside those of steps (:data:`GLYPH`)."""


def run_summary_of(app: AilApp) -> RunSummary:
    """The summary of the run on screen, now."""
    name = app.pipeline_path or app.view.log_path
    return summarize(app.view, now=app.clock(),
                     runners=step_runners(app.pipeline, session_default(app.runner)),
                     pipeline=display_path(name) if name else None)


def open_summary(app: AilApp) -> None:
    """Show the summary of the run on screen (brought up to date when already shown)."""
    if app.view.run_id is None:
        app.notify("No run on screen yet: r runs the pipeline.", severity="warning")
        return
    summary = run_summary_of(app)
    if isinstance(app.screen, SummaryScreen):
        app.screen.show(summary)
    else:
        app.push_screen(SummaryScreen(summary))


class SummaryScreen(ModalScreen[None]):
    """A run's summary; ``e`` exports the run, ``s`` or ``escape`` closes it."""

    BINDINGS = [
        Binding("escape,s", "close", "Close", id="summary.close"),
        Binding("e", "app.export", "Export", id="app.export"),
        Binding("q", "app.quit", "Quit", id="summary.quit"),
    ]

    def __init__(self, summary: RunSummary) -> None:
        super().__init__()
        self.summary = summary
        self._mounted = False  # a summary given before then is shown at mount

    def compose(self) -> ComposeResult:
        with Vertical(id="summary") as box:
            # In the border: in sight when the body scrolls.
            box.border_subtitle = "e export · s/esc close · q quit"
            yield Label(id="summary-title")
            with VerticalScroll(id="summary-body"):
                yield Static(id="summary-text")

    def on_mount(self) -> None:
        self._mounted = True
        self.show(self.summary)

    def show(self, summary: RunSummary) -> None:
        """Show ``summary`` (the run went on since the screen opened)."""
        self.summary = summary
        if not self._mounted:
            return
        try:
            title = self.query_one("#summary-title", Label)
            text = self.query_one("#summary-text", Static)
        except NoMatches:  # the screen is being taken down (the dashboard is quitting)
            return
        title.update(summary_title(summary))
        text.update(summary_body(summary))

    def action_close(self) -> None:
        self.dismiss(None)


def summary_title(summary: RunSummary) -> Text:
    """``Run 1a2b3c4d · ✓ completed · p.ail.yaml``."""
    style = "green" if summary.status in ENDED_WELL else (
        "yellow" if summary.status in ("running", "paused") else "red")
    text = Text(f"Run {(summary.run_id or '')[:8]} · ")
    text.append(f"{_glyph(summary.status)} {summary.status}", style=f"bold {style}")
    if summary.pipeline:
        text.append(f" · {summary.pipeline}")
    return text


def summary_body(summary: RunSummary) -> RenderableType:
    """What the screen shows under the title."""
    tokens_in = sum(r.input_tokens for r in summary.runners)
    tokens_out = sum(r.output_tokens for r in summary.runners)
    head = Text(f"wall time {seconds_text(summary.wall_seconds)} · cost "
                f"{cost_text(summary.cost_usd)} · tokens {tokens_in:,} in, {tokens_out:,} out")
    if summary.error:
        kind = f" ({summary.error_type})" if summary.error_type else ""
        head.append(f"\n{summary.error}{kind}", style="red")
    counts = Text("  ".join(f"{_glyph(status)} {n} {status}"
                            for status, n in summary.counts.items()))
    parts: list[RenderableType] = [head, counts]
    if summary.problems:  # what went wrong first: the rest may need scrolling to
        lines = Text("Failed and cancelled", style="bold")
        for step in summary.problems:
            lines.append(f"\n{_glyph(step.status)} {step.step_id}: ")
            lines.append(problem_text(step), style="red" if step.status == "failed" else "")
        parts.append(lines)
    parts += [_critical_path(summary), _runners(summary)]
    return Group(*_spaced(parts))


def _critical_path(summary: RunSummary) -> RenderableType:
    title = (f"Critical path — {seconds_text(summary.critical_seconds)} of "
             f"{seconds_text(summary.wall_seconds)}")
    if not summary.critical_path:
        return Text(f"{title}\nno step finished", style="bold")
    table = _table(title, ("step", "left"), ("starts", "right"), ("took", "right"),
                   ("", "left"))
    wall = summary.wall_seconds or summary.critical_seconds or 1.0
    for step in summary.critical_path:
        start = min(int(step.offset / wall * BAR_WIDTH), BAR_WIDTH - 1)
        length = max(1, min(round(step.duration / wall * BAR_WIDTH), BAR_WIDTH - start))
        table.add_row(step.step_id, f"+{seconds_text(step.offset)}",
                      seconds_text(step.duration),
                      Text(" " * start + "█" * length, style="cyan"))
    return table


def _runners(summary: RunSummary) -> RenderableType:
    table = _table("By runner", ("runner", "left"), ("model", "left"), ("steps", "right"),
                   ("cost", "right"), ("in", "right"), ("out", "right"))
    for r in summary.runners:
        table.add_row(r.runner, r.model or "—", str(r.steps), cost_text(r.cost_usd),
                      f"{r.input_tokens:,}", f"{r.output_tokens:,}")
    return table


def _table(title: str, *columns: tuple[str, str]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_edge=False, expand=False)
    for header, justify in columns:
        table.add_column(header, justify="right" if justify == "right" else "left",
                         overflow="fold")
    return table


def _glyph(status: str) -> str:
    return RUN_GLYPH.get(status) or GLYPH.get(status, "·")


def _spaced(parts: list[RenderableType]) -> list[RenderableType]:
    """The parts with a blank line between each."""
    out: list[RenderableType] = []
    for part in parts:
        if out:
            out.append(Text(""))
        out.append(part)
    return out
