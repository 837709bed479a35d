"""The dashboard's main screen: it composes the panes, owns their bindings, and paints them.

The app holds the state (the run session, the pipeline, the verdict); this screen shows
it: the status bar, the steps table, the panes (timeline, output, details, events,
problems, plan), the search box and the footer. Panes are drawn only while shown, and
the table only where its rows changed.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Log, Static, TabbedContent, TabPane

from ail_tui.report import display_path
from ail_tui.tui.event_log_pane import EVENT_LOG_LINES
from ail_tui.tui.layout import NARROW_BELOW, SplitLayout
from ail_tui.tui.runner_notes import retry_text
from ail_tui.tui.screens.summary import open_summary
from ail_tui.tui.widgets.details import Details
from ail_tui.tui.widgets.output_view import OutputSource, OutputView, PrefixedLines
from ail_tui.tui.widgets.plan import Plan, render_known_steps
from ail_tui.tui.widgets.problems import Problems, render_no_pipeline
from ail_tui.tui.widgets.splitter import Splitter
from ail_tui.tui.widgets.status_bar import StatusBar, status_text
from ail_tui.tui.widgets.step_name_filter import StepNameFilter
from ail_tui.tui.widgets.steps_table import StepsTable
from ail_tui.tui.widgets.timeline import Timeline

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp

TICK_SECONDS = 1.0
RESIZE = Binding.Group("Resize")


def binding_rows() -> list[tuple[str, str, str, str]]:
    """Every dashboard key as (key, what it does, id, action) for help and the palette."""
    rows = []
    for owner in (MainScreen.BINDINGS, StepsTable.BINDINGS):
        for binding in owner:
            if isinstance(binding, Binding):
                action = binding.action
                if owner is StepsTable.BINDINGS:
                    action = f"focused.{action}"
                rows.append((binding.key, binding.description, binding.id or "", action))
    return rows


class MainScreen(Screen[None]):
    """Status, steps and panes of the run on screen; the dashboard's keys."""

    # Help and Quit come first: the footer shows them at any width (it cuts off the keys
    # that do not fit at its right). Run controls that cannot act are left out of it (the
    # app's check_action, see run_controls). At 80 columns it shows up to z and < >.
    BINDINGS = [
        Binding("question_mark", "app.help", "Help", id="app.help"),
        Binding("q", "app.quit", "Quit", id="app.quit"),
        Binding("r", "app.run", "Run", id="app.run"),
        Binding("c", "app.cancel_run", "Cancel run", id="app.cancel_run"),
        Binding("x", "app.cancel_step", "Cancel step", id="app.cancel_step"),
        Binding("t", "app.next_tab", "Next pane", id="app.next_tab"),
        Binding("z", "screen.toggle_maximize", "Maximize", id="app.maximize"),
        Binding("<", "screen.split(-1)", "Narrower table", id="app.split_narrower",
                group=RESIZE),
        Binding(">", "screen.split(1)", "Wider table", id="app.split_wider", group=RESIZE),
        Binding("=", "screen.split_reset", "Reset the split", show=False,
                id="app.split_reset"),
        Binding("p", "app.pause", "Pause", id="app.pause"),
        Binding("g", "app.answer_gate", "Gate", id="app.gate"),
        Binding("o", "app.toggle_output", "All output", id="app.output_all"),
        Binding("h", "app.history", "History", id="app.history"),
        Binding("F", "app.rerun_from_step", "Re-run from here", id="app.rerun_from"),
        Binding("slash", "app.search", "Search", id="app.search"),
        Binding("n", "app.search_next", "Next match", show=False, id="app.search_next"),
        Binding("N", "app.search_previous", "Previous match", show=False,
                id="app.search_previous"),
        Binding("y", "app.copy", "Copy step", show=False, id="app.copy"),
        Binding("s", "app.summary", "Summary", show=False, id="app.summary"),
        Binding("e", "app.export", "Export run", show=False, id="app.export"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    """Narrow terminals stack the table above the panes (app.tcss)."""
    ALLOW_IN_MAXIMIZED_VIEW = "#banner, #status, #search, #step-filter, Footer"

    def __init__(self, app: AilApp) -> None:
        super().__init__()
        self.dashboard = app
        self.dirty: set[str] = set()
        """Steps whose table row changed since it was last drawn."""
        self._last_timeline = 0.0
        self._last_tick = 0.0
        self._named: tuple[Path | None, str] = (None, "")

    def compose(self) -> ComposeResult:
        yield Static(id="banner")
        yield StatusBar(id="status")
        with Horizontal(id="body"):
            yield StepsTable(id="steps")
            yield Splitter(id="splitter")
            with TabbedContent(id="panes", initial="tab-timeline"):
                with TabPane("Timeline", id="tab-timeline"):
                    yield Timeline(id="timeline")
                with TabPane("Output", id="tab-output"):
                    yield OutputView(id="output")
                with TabPane("Details", id="tab-details"), VerticalScroll():
                    yield Details(id="details")
                with TabPane("Events", id="tab-events"), Vertical():
                    yield Input(placeholder="filter events by step or type", id="event-filter")
                    yield Log(id="event-log", max_lines=EVENT_LOG_LINES, highlight=False)
                with TabPane("Problems", id="tab-problems"), VerticalScroll():
                    yield Problems(id="problems")
                with TabPane("Plan", id="tab-plan"), VerticalScroll():
                    yield Plan(id="plan")
        yield Input(placeholder="search the run (enter: find, n/N: next/previous)",
                    id="search")
        yield StepNameFilter(id="step-filter")
        yield Footer()

    def on_mount(self) -> None:
        self.table = self.query_one(StepsTable)
        self.timeline = self.query_one(Timeline)
        self.output_view = self.query_one(OutputView)
        self.event_log = self.query_one("#event-log", Log)
        self.problems = self.query_one(Problems)
        self.plan = self.query_one(Plan)
        self.tabs = self.query_one(TabbedContent)
        self.status = self.query_one(StatusBar)
        self.details = self.query_one(Details)
        self.banner = self.query_one("#banner", Static)
        self.table.focus()
        self.split = SplitLayout(self)
        self.dashboard.main_mounted(self)

    # -- layout --------------------------------------------------------------------------

    def on_resize(self) -> None:
        """Fit the footer and the split to the new size."""
        self.split.resized()

    def action_split(self, by: int) -> None:
        """Give the table more room (``by`` > 0) or less; stacked, more lines or fewer."""
        self.split.move(by)

    def action_split_reset(self) -> None:
        """The split as it was at the start."""
        self.split.reset()

    def action_toggle_maximize(self) -> None:
        """Fill the screen with the table or the panes (whichever has the focus), or
        restore the split."""
        self.split.toggle_maximize()

    @on(Splitter.Dragged)
    def _divider_dragged(self, event: Splitter.Dragged) -> None:
        self.split.drag_to(event.x, event.y)

    # -- painting ------------------------------------------------------------------------

    def show_banner(self, text: str | None) -> None:
        """A line above the status bar (None: none), e.g. whose run this is."""
        self.banner.update(text or "")
        self.banner.set_class(text is not None, "shown")

    def show_replay(self, run_id: str, *, log_only: bool) -> None:
        """Say that the run on screen is a replay, and what ``r`` does meanwhile."""
        started = self.dashboard.view.started_at
        when = (datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M:%S") if started
                else "at an unknown time")
        then = ("a log only: ail-tui PIPELINE opens a pipeline to run" if log_only
                else "r runs the pipeline")
        self.show_banner(f"⟲ replay of run {run_id[:8]} (started {when}) — {then}")

    def show_no_pipeline(self, shown: str) -> None:
        """No pipeline file is open, only ``shown`` (a log, a run): say so in Problems
        and Plan (with the steps known from the run)."""
        self.problems.update(render_no_pipeline(shown))
        self.plan.update(render_known_steps(shown, self.dashboard.view.rows.values()))

    def refresh_all(self) -> None:
        """Draw everything again (a new run, a replay, a new verdict)."""
        view = self.dashboard.view
        self.table.show(view, None)
        self.timeline.show(view)
        self.show_output()
        self.refresh_status()
        self.dirty = set()
        self.split.apply()  # the table's columns may want another width

    def refresh_running(self, force: bool = False) -> None:
        """Draw what a batch of events changed (the timeline at most every 0.25–1 s)."""
        view = self.dashboard.view
        now = time.time()
        tick = now - self._last_tick > TICK_SECONDS
        self.table.show(view, self.dirty, tick=tick)
        self.split.apply()
        if tick:
            self._last_tick = now
        # Big runs redraw the timeline less often; every lane is redrawn each time.
        every = 0.25 if len(view.rows) < 100 else 1.0
        if now - self._last_timeline > every or (force and not view.running):
            if self.tabs.active == "tab-timeline":  # hidden, it is drawn when shown
                self.timeline.show(view)
            self._last_timeline = now
        self.show_output()
        self.refresh_status()
        self.dirty = set()

    def timeline_due(self) -> bool:
        """Whether a running timeline has waited long enough to be drawn again."""
        return time.time() - self._last_timeline > 0.25

    def show_output(self) -> None:
        """Bring the output or details pane, whichever is shown, up to date."""
        active = self.tabs.active
        if active == "tab-output":
            self.output_view.show(self._output_source())
        elif active == "tab-details":
            step = self.table.selected_step
            row = self.dashboard.view.rows.get(step) if step else None
            if row is not None:
                self.details.show(row, self.dashboard.view.run_id)

    def _output_source(self) -> OutputSource | None:
        view = self.dashboard.view
        if self.dashboard.output_all:
            return OutputSource("*", "all steps, interleaved (o: selected step)",
                                PrefixedLines(view.interleaved),
                                lambda: view.interleaved_total)
        step = self.table.selected_step
        row = view.rows.get(step) if step else None
        if row is None:
            return None
        title = f"{row.step_id} · {row.kind} · {row.label}"
        if row.api_retry:
            title += f" · {retry_text(row.api_retry)}"
        return OutputSource(f"{id(view)}:{row.step_id}", title, row.output,
                            lambda: row.lines_total, notice=row.error or "")

    def refresh_status(self) -> None:
        """The status bar: pipeline, verdict, run, counts, tokens, cost, warnings."""
        app = self.dashboard
        name = self._pipeline_name()
        missing = () if app.session.attached else tuple(
            c.name for c in app.runner_checks or () if not c.available)
        self.status.totals.update(app.view, self.dirty)
        self.status.show(status_text(
            name, app.result, app.validated_at or app.clock(), app.view, app.clock(),
            changed=0 < app.session.generation < app.generation, missing=missing,
            totals=self.status.totals))
        if app.controls.changed():
            self.refresh_bindings()  # the footer shows the run controls that can act

    def _pipeline_name(self) -> str:
        """The pipeline file as the status bar names it (its path is resolved on disk
        once, not at every redraw)."""
        path = self.dashboard.pipeline_path
        if path is None:
            return "(log)"
        if self._named[0] != path:
            self._named = (path, display_path(path))
        return self._named[1]

    def run_ended(self) -> None:
        """Say how the run ended (the summary, when it opens on its own, says it); show
        the first failed step."""
        view = self.dashboard.view
        bad = [r for r in view.rows.values() if r.status in ("failed", "cancelled")]
        failed = next((r for r in bad if r.status == "failed"), None)
        if failed is not None:
            self.table.select_step(failed.step_id)
            self.show_output()
        if self.dashboard.summary_on_end:
            open_summary(self.dashboard)
        elif view.state in ("completed", "break"):
            self.notify(f"Run {view.state}.", title="ail-tui")
        else:
            summary = "\n".join(f"{r.glyph} {r.step_id}: {r.error or r.status}"
                                for r in bad[:8])
            self.notify(f"Run {view.state}: {view.error or ''}\n{summary}",
                        title="ail-tui", severity="error", timeout=15)

    # -- what the panes tell --------------------------------------------------------------

    @on(StepsTable.Highlighted)
    def _selection_moved(self) -> None:
        # Shown at the next redraw: holding a key down redraws the pane once per frame,
        # not once per row passed.
        self.dashboard.redraw_due = True

    @on(Input.Changed, "#event-filter")
    def _filter_events(self, event: Input.Changed) -> None:
        self.dashboard.event_pane.set_filter(event.value)

    @on(StepsTable.NameFilterAsked)
    def _filter_steps(self, message: StepsTable.NameFilterAsked) -> None:
        self.query_one(StepNameFilter).open(message.table)

    @on(TabbedContent.TabActivated, "#panes")
    def _pane_shown(self, event: TabbedContent.TabActivated) -> None:
        """Panes are only drawn while shown: bring the one now shown up to date."""
        shown = event.pane.id
        if shown == "tab-events" and self.dashboard.event_pane.stale:
            self.dashboard.event_pane.rebuild()
        elif shown in ("tab-output", "tab-details"):
            self.show_output()
        elif shown == "tab-timeline":
            self.timeline.show(self.dashboard.view)
