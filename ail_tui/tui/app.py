"""The dashboard: watch and validate a pipeline, run it, supervise its branches."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, TabbedContent
from textual.worker import Worker, WorkerState

from ail_tui import gc_control
from ail_tui.engine import events as ev
from ail_tui.engine.run_handle import RunHandle
from ail_tui.orchestration.temporal_target import TemporalTarget
from ail_tui.pipeline.loader import LoadResult, Pipeline
from ail_tui.runners.availability import RunnerCheck
from ail_tui.runners.registry import RunnerFactory
from ail_tui.settings import Settings
from ail_tui.tui import user_settings
from ail_tui.tui.child_runs import ChildRowsRead, ChildRuns
from ail_tui.tui.event_log_pane import EventLogPane
from ail_tui.tui.event_sink import EventSink
from ail_tui.tui.messages import (
    PipelineChecked,
    RunAttached,
    RunContinued,
    RunLaunched,
    RunnersChecked,
    RunRead,
)
from ail_tui.tui.pipeline_watch import PipelineWatcher
from ail_tui.tui.questions import Questions
from ail_tui.tui.quitting import Quitting
from ail_tui.tui.run_controls import RunControls
from ail_tui.tui.run_history import RunHistory
from ail_tui.tui.run_search import RunSearch
from ail_tui.tui.run_session import RunSession, nothing
from ail_tui.tui.run_starts import RunStarts
from ail_tui.tui.run_view import Question, RunView
from ail_tui.tui.screens.dialogs import HelpScreen
from ail_tui.tui.screens.export_dialog import ExportDialog, ask_export
from ail_tui.tui.screens.main import MainScreen, binding_rows
from ail_tui.tui.screens.summary import SummaryScreen, open_summary
from ail_tui.tui.served_runs import ServedRuns
from ail_tui.tui.terminal import StopRequested, dashboard_driver
from ail_tui.tui.verdicts import Verdicts
from ail_tui.tui.widgets.details import details_text
from ail_tui.tui.widgets.output_view import OutputView
from ail_tui.tui.widgets.plan import render_plan
from ail_tui.tui.widgets.step_name_filter import StepNameFilter

if TYPE_CHECKING:
    from ail_tui.continue_commands import ContinueRequest

DRAIN_SECONDS = 0.05
REDRAW_SECONDS = 0.1
UI_SWITCH_INTERVAL = 0.02  # seconds a thread may hold the interpreter lock (default 0.005)
CROWDED_SWITCH_INTERVAL = 0.005
CROWDED_THREADS = 1500
"""With more threads than this in the process (as many branches running here), time
slices are CROWDED_SWITCH_INTERVAL long: see AilApp._pace_threads."""
MAX_EVENTS_PER_TICK = 20_000
WARNING_POPUPS = 5
"""At most this many distinct warnings about a run pop up in one dashboard session."""


class AilApp(App[int]):
    """ail-tui's dashboard."""

    CSS_PATH = "app.tcss"
    TITLE = "ail-tui"
    BINDINGS = [Binding("r", "run_unavailable", show=False, id="app.run")]
    """``r`` when the run binding cannot act (no pipeline file): says why (remapped with
    the run binding: the same id)."""
    _last_redraw = 0.0
    _switch_interval = 0.005
    def __init__(
        self,
        pipeline_path: str | Path | None,
        *,
        prompt: str | None = None,
        runner: str | None = None,
        model: str | None = None,
        runners: RunnerFactory | None = None,
        watch_run: bool = False,
        watch_files: bool = True,
        log_dir: Path | None = None,
        replay: RunHandle | None = None,
        attach: RunHandle | None = None,
        clock: Callable[[], float] = time.time,
        autorun: bool = False,
        continue_from: ContinueRequest | None = None,
        serve_runs: bool = False,
        settings: Settings | None = None,
        summary_on_end: bool = False,
        orchestration: TemporalTarget | None = None,
    ) -> None:
        super().__init__(driver_class=dashboard_driver())
        self.clock = clock
        self.autorun = autorun
        self.continue_from = continue_from  # resume or re-run this log once validated
        self.pipeline_path = Path(pipeline_path).resolve() if pipeline_path else None
        self.prompt, self.runner, self.model = prompt, runner, model
        self.runners = runners or RunnerFactory()
        self.orchestration = orchestration
        """Where runs execute (None: this machine; a Temporal service's workers)."""
        self.watch_run = watch_run
        self.watcher = PipelineWatcher(self, self.pipeline_path, watch=watch_files)
        self.needs_prompt = False  # the last good version reads {{ step.invocation.prompt }}
        self.log_dir = log_dir
        self.result: LoadResult | None = None
        self.runner_checks: list[RunnerCheck] | None = None  # None: not checked yet
        self.pipeline: Pipeline | None = None  # the last good version
        self.generation = 0  # bumps on every valid save
        self.validated_at: float | None = None
        self.session = RunSession(RunView())
        self.replay = replay  # a finished run to show from the start (--log)
        self.attach = attach  # a run of another process to follow (ail-tui attach)
        self.output_all = False
        self.questions = Questions(self)
        self.starts = RunStarts(self)
        self.history = RunHistory(self)
        self.quitting = Quitting(self)
        self.controls = RunControls(self)
        self.verdicts = Verdicts(self)
        self.child_runs = ChildRuns(self)
        self.settings = settings  # the person's keymap, theme, pane (None: as shipped)
        self.summary_on_end = summary_on_end
        """The summary opens on its own when a run this dashboard watches ends."""
        self.served = ServedRuns(self) if serve_runs else None
        """Runs start in processes of their own (None: in this one)."""
        self.redraw_due = False
        self.drained = 0
        self.told_ended: set[tuple[str | None, float | None]] = set()
        """The ends (run id, time) the dashboard has announced."""
        self.told_warnings: set[str] = set()
        """The warnings about a whole run (not a step) the dashboard has popped up."""

    # -- the run on screen -----------------------------------------------------------------

    @property
    def view(self) -> RunView:
        """The state of the run on screen."""
        return self.session.view

    @property
    def replaying(self) -> bool:
        """Whether the run on screen is a replay of a turn log."""
        return self.session.replaying

    @property
    def current_run(self) -> RunHandle | None:
        """The live run on screen, if any."""
        return self.session.run

    @property
    def events(self) -> EventSink:
        """Events of the run on screen, waiting for the next tick."""
        return self.session.events

    @property
    def event_lines(self) -> list[str]:
        """The Events pane's lines."""
        return self.session.event_lines

    def begin(self, session: RunSession) -> None:
        """Show ``session`` instead of the last one, from empty panes (the connection to
        a run both show stays open)."""
        self.session.close(keep_connection=session.run is self.session.run is not None)
        self.session = session
        self.main.show_banner(None)
        self.table.clear()
        self.event_pane.clear()
        self.main.dirty = set(session.view.rows)

    # -- layout ------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        """The main screen: the panes and their keys."""
        return MainScreen(self)

    def main_mounted(self, main: MainScreen) -> None:
        """The main screen is up: keep its widgets (updates go on while a dialog is open)
        and start validating, draining events and ticking."""
        self.main = main
        self.table, self.timeline, self.tabs = main.table, main.timeline, main.tabs
        self.output_view, self.details = main.output_view, main.details
        self.status = main.status
        self.problems, self.plan, self.event_log = main.problems, main.plan, main.event_log
        self.event_pane = EventLogPane(self, self.event_log)
        self.search = RunSearch(self, main.query_one("#search", Input))
        if self.replay is not None:
            self.open_replay(self.replay)
        if self.attach is not None:
            self.open_attached(self.attach)
        if self.pipeline_path is not None:
            self.validate_now()
        else:
            self.main.show_no_pipeline("a log" if self.replay is not None else "a run")
        if self.settings is not None:
            user_settings.apply(self, self.settings)
        self.set_interval(DRAIN_SECONDS, self.drain, name="drain-events")
        self.set_interval(1.0, self._tick, name="tick")
        self.main.refresh_all()
        gc_control.set_aside_startup_objects()
        self._switch_interval = sys.getswitchinterval()
        self._pace_threads()

    def _pace_threads(self) -> None:
        """How long a thread may hold the interpreter lock while others wait for it.

        The interface thread is the one thread that computes for long (a frame); the
        engine's threads mostly wait on pipes, sockets and timers. Longer time slices let
        a frame finish instead of being cut every 5 ms to queue behind hundreds of branch
        threads, each of which gives the lock back as soon as it blocks. But a thread
        waiting for the lock takes it only when it finds it free as it wakes, once a
        slice: among thousands of branch threads taking turns, the interface thread would
        wait for it slice after long slice, so then slices are short again."""
        crowded = threading.active_count() > CROWDED_THREADS
        sys.setswitchinterval(CROWDED_SWITCH_INTERVAL if crowded else UI_SWITCH_INTERVAL)

    def on_unmount(self) -> None:
        """The app's objects go back to the collector's care; time slices as they were."""
        gc_control.bring_back_startup_objects()
        sys.setswitchinterval(self._switch_interval)

    # -- validation and watching ---------------------------------------------------------

    def validate_now(self) -> None:
        """Validate the pipeline off the UI thread; the verdict comes back as a message."""
        self.watcher.validate_now()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's failure becomes visible (never a silent absence)."""
        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        error = worker.error
        what = f"{type(error).__name__}: {error}" if error is not None else "unknown error"
        if worker.group == "validate":
            self.problems.update(f"✗ Could not validate {self.pipeline_path}: {what}\n"
                                 "(save the file again to retry)")
            self.tabs.active = "tab-problems"
        self.notify(f"{worker.description or worker.group} failed: {what}",
                    title="internal error", severity="error", timeout=10)

    @on(PipelineChecked)
    def _pipeline_checked(self, message: PipelineChecked) -> None:
        if message.result.valid:
            self.needs_prompt = message.needs_prompt
        self.verdicts.take(message.result)

    @on(RunnersChecked)
    def _runners_checked(self, message: RunnersChecked) -> None:
        pipeline, checks = message.pipeline, message.checks
        if pipeline is not self.pipeline:
            return  # a newer save is being checked
        self.runner_checks = checks
        self.plan.update(render_plan(pipeline, checks))
        self.main.refresh_status()
        missing = [check for check in checks if not check.available]
        if missing and not self.session.attached:  # another process runs the steps
            self.notify("\n".join(f"✗ {c.name}: {c.detail}" for c in missing),
                        title="runners unavailable", severity="warning", timeout=8)

    # -- running -------------------------------------------------------------------------

    def action_run(self) -> None:
        """Run the last good version of the pipeline (asks for a prompt when it needs one)."""
        self.starts.run()

    def action_run_unavailable(self) -> None:
        """Say why there is nothing to run."""
        self.starts.run()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Run controls that cannot act now are hidden from the footer (and do nothing)."""
        return self.controls.shown(action)

    def start_run(self, prompt: str | None) -> None:
        """Start a run of the last good pipeline, on a snapshot of it."""
        self.starts.fresh(prompt)

    def action_rerun_from_step(self) -> None:
        """Re-run the run on screen from the selected step, reusing the results before it."""
        self.starts.rerun_from_selected()

    @on(RunContinued)
    def _run_continued(self, message: RunContinued) -> None:
        self.starts.continued(message)

    @on(RunLaunched)
    def _run_launched(self, message: RunLaunched) -> None:
        self.starts.launched(message)

    def action_cancel_run(self) -> None:
        """Cancel the whole run."""
        if self.current_run is not None and self.view.running:
            self.current_run.cancel()
            self.notify("Cancelling the run…")

    def action_cancel_step(self) -> None:
        """Cancel the selected step (a branch, or the running sequential step)."""
        step = self.table.selected_step
        if self.current_run is None or step is None or not self.view.running:
            return
        if self.current_run.cancel_step(step):
            self.notify(f"Cancelling {step}…")
        else:
            self.notify(f"{step} is not running or queued.", severity="warning")

    def action_pause(self) -> None:
        """Pause or resume between steps."""
        if self.current_run is None or not self.view.running:
            return
        if self.current_run.paused:
            self.current_run.resume()
        else:
            self.current_run.pause()

    def action_answer_gate(self) -> None:
        """Open the dialog of the oldest waiting gate or permission request."""
        self.questions.show_oldest()

    def action_toggle_output(self) -> None:
        """Selected step's output, or every step's interleaved."""
        self.output_all = not self.output_all
        self.main.show_output()

    def action_next_tab(self) -> None:
        """Cycle the right-hand panes."""
        tabs = self.tabs
        order = ["tab-timeline", "tab-output", "tab-details", "tab-events", "tab-problems",
                 "tab-plan"]
        tabs.active = order[(order.index(tabs.active) + 1) % len(order)]

    def action_history(self) -> None:
        """List this project's runs (read off the UI thread); open, attach or resume one."""
        self.history.open()

    @on(RunRead)
    def _run_read(self, message: RunRead) -> None:
        self.history.read(message)

    @on(RunAttached)
    def _run_attached(self, message: RunAttached) -> None:
        self.history.attached(message)

    def open_replay(self, run: RunHandle, pipeline: Pipeline | None = None) -> None:
        """Show a finished run, its events applied now (``pipeline``: the one it ran)."""
        self.begin(RunSession(RunView.planned(pipeline), replaying=True))
        self.session.follow(run)
        self.drain(sys.maxsize)
        self.main.show_replay(run.run_id, log_only=self.pipeline_path is None)
        self.main.refresh_all()

    def open_attached(self, run: RunHandle, own_connection: bool = False) -> None:
        """Follow a run of another process: everything so far, then live (A3).
        ``own_connection``: the dashboard made the connection (it closes it)."""
        closes = getattr(run, "close", None) if own_connection else None
        self.begin(RunSession(RunView.planned(self.pipeline), run=run, attached=True,
                              detachable=True, disconnect=closes or nothing))
        self.session.follow(run)
        pid = getattr(run, "pid", None)
        self.main.show_banner(
            f"⇄ attached to run {run.run_id[:8]}" + (f" of process {pid}" if pid else "")
            + ": leaving this dashboard leaves the run running")

    def action_search(self) -> None:
        """Search every text of the run."""
        self.search.open()

    @on(Input.Submitted, "#search")
    def _search(self, event: Input.Submitted) -> None:
        self.search.find(event.value)

    def action_search_next(self, step: int = 1) -> None:
        """Go to the next (or previous) match: select its step and show its details."""
        self.search.next(step)

    def action_search_previous(self) -> None:
        """Go to the previous match."""
        self.search.next(-1)

    def action_copy(self) -> None:
        """Copy the selected step's details to the clipboard."""
        step = self.table.selected_step
        row = self.view.rows.get(step) if step else None
        if row is None:
            return
        self.copy_to_clipboard(details_text(row, self.view.run_id))
        self.notify(f"Copied {row.step_id} to the clipboard.")

    def action_summary(self) -> None:
        """Show the summary of the run on screen."""
        open_summary(self)

    def action_export(self) -> None:
        """Export the run on screen to a Markdown or JSON file."""
        ask_export(self)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette lists every dashboard binding beside Textual's commands."""
        yield from super().get_system_commands(screen)
        for binding in binding_rows():
            key, description, ident, action = binding
            yield SystemCommand(f"{description} [{key}]", f"binding {ident}",
                                partial(self.run_action, action))

    def action_help(self) -> None:
        """Show every binding."""
        rows = [(key, description, ident) for key, description, ident, _ in
                binding_rows()]
        from ail_tui.tui.screens.compare import CompareScreen
        from ail_tui.tui.screens.history import HistoryScreen

        for where, bindings in (("output pane", OutputView.BINDINGS),
                                ("step name filter", StepNameFilter.BINDINGS),
                                ("history", HistoryScreen.BINDINGS),
                                ("summary", SummaryScreen.BINDINGS),
                                ("export", ExportDialog.BINDINGS),
                                ("compare", CompareScreen.BINDINGS)):
            rows += [(b.key, f"{b.description} ({where})", b.id or "")
                     for b in bindings if isinstance(b, Binding)]
        self.push_screen(HelpScreen(rows))

    async def action_quit(self) -> None:
        """Quit (during a run in another process: detach or cancel it, see Quitting)."""
        await self.quitting.quit()

    @on(StopRequested)
    def _stop_requested(self, message: StopRequested) -> None:
        self.run_worker(self.quitting.stop(message.reason), group="stop", exclusive=True,
                        description="stop the dashboard")

    # -- events --------------------------------------------------------------------------

    def drain(self, limit: int = MAX_EVENTS_PER_TICK) -> None:
        """Apply queued engine events in one batch (streamed text arrives folded per step)."""
        batch = self.events.take(limit)
        if not batch:
            now = time.time()
            if (self.redraw_due and now - self._last_redraw >= REDRAW_SECONDS) or (
                    self.view.running and self.main.timeline_due()):
                self._redraw()
            return
        self.drained += len(batch)
        origin = self.view.started_at
        finished = False
        arrivals: list[Question] = []
        for event in batch:
            changed = self.view.apply(event)
            if changed and not isinstance(event, ev.StepOutput) and (
                    not isinstance(event, ev.RunnerEvent)
                    or event.event.get("type") in ("retry", "usage")):
                self.main.dirty.add(changed)  # streamed text changes no table cell
            origin = origin or self.view.started_at
            self.event_pane.add(event, origin)
            self.child_runs.seen(event, self.view)
            if isinstance(event, ev.HitlGateReached | ev.HitlModifyReached
                          | ev.PermissionRequested):
                arrivals.append(event)
            elif isinstance(event, ev.Warning_) and event.step_id is None:
                self._warn(event.message)
            finished = finished or isinstance(event, ev.PipelineCompleted | ev.PipelineError)
        self.questions.settle(arrivals)
        self.child_runs.read(self.view)
        if finished:
            self.event_pane.end_streams(origin)
        self.event_pane.commit()
        self.redraw_due = True
        # Events are applied at every drain; the screen is redrawn at most every
        # REDRAW_SECONDS, so a storm of events leaves the interface time for keys.
        if finished or time.time() - self._last_redraw >= REDRAW_SECONDS:
            self._redraw()
        # A replay's end is old news; an attached run shown again (with its plan, once
        # the pipeline is read) has told its end already.
        end = (self.view.run_id, self.view.finished_at)
        if finished and not self.replaying and end not in self.told_ended:
            self.told_ended.add(end)
            self.main.run_ended()

    def _warn(self, message: str) -> None:
        """Pop up a warning about the whole run (as an ``ail.db`` that could not be
        written), once: the Events pane alone is easy to miss (it keeps them all; only
        the first few pop up)."""
        if (self.replaying or message in self.told_warnings
                or len(self.told_warnings) >= WARNING_POPUPS):
            return
        self.told_warnings.add(message)
        self.notify(message, title="Warning", severity="warning", timeout=10)

    @on(ChildRowsRead)
    def _child_rows_read(self, message: ChildRowsRead) -> None:
        """A sub-pipeline step's run was read: its steps go under the step."""
        if message.view is self.view:
            self.view.add_rows(message.rows)
            self.main.dirty.update(row.step_id for row in message.rows)
            self.redraw_due = True

    def _redraw(self) -> None:
        with self.batch_update():
            self.event_pane.write_pending()
            self.main.refresh_running(force=True)
        self._last_redraw = time.time()
        self.redraw_due = False

    @on(Input.Changed, "#event-filter")
    def _filter_events(self, event: Input.Changed) -> None:
        self.event_pane.set_filter(event.value)

    @on(TabbedContent.TabActivated, "#panes")
    def _pane_shown(self, event: TabbedContent.TabActivated) -> None:
        """Panes are only drawn while shown: bring the one now shown up to date."""
        shown = event.pane.id
        if shown == "tab-events" and self.event_pane.stale:
            self.event_pane.rebuild()
        elif shown in ("tab-output", "tab-details"):
            self.main.show_output()
        elif shown == "tab-timeline":
            self.timeline.show(self.view)

    def _tick(self) -> None:
        self._pace_threads()
        self.watcher.check_stamps()
        self.main.refresh_status()


def run_dashboard(path: str | None, **options: Any) -> int:
    """Open the dashboard (its runs in processes of their own); returns its exit code."""
    settings = user_settings.load()
    app = AilApp(path, **{"serve_runs": True, "settings": settings,
                          "summary_on_end": settings.summary_on_end, **options})
    return app.run() or 0
