"""Starting runs from the dashboard: a fresh run (``r``), a resume (``R`` in the history,
D1), a re-run from the selected step (``F``, D4), a re-run after a save (``--watch-run``:
the unchanged steps before the first changed one are reused, D4), and the run
``ail-tui resume/rerun`` opens the dashboard on.

A run that goes on from an earlier one needs that run's log read and the pipeline's
step definitions fingerprinted: that happens on a worker thread, and the run to start
comes back as a :class:`~ail_tui.tui.messages.RunContinued` message (or why it cannot
go on). Every run starts the same way, in :meth:`RunStarts.start`, on a new session.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual.worker import get_current_worker

from ail_tui.engine.continuing import FINISHED, CannotContinue, Continuation, continue_run
from ail_tui.engine.local_run import LocalRun
from ail_tui.engine.prior_run import top_step
from ail_tui.engine.run_handle import RunHandle
from ail_tui.engine.run_types import RunOptions
from ail_tui.orchestration.backends import RunNotStarted, open_run
from ail_tui.orchestration.remote_run import RemoteRun
from ail_tui.pipeline.loader import Pipeline
from ail_tui.tui.messages import RunContinued, RunLaunched
from ail_tui.tui.run_session import RunSession
from ail_tui.tui.run_view import RunView
from ail_tui.tui.screens.dialogs import PromptDialog
from ail_tui.turnlog.reader import read_run

if TYPE_CHECKING:
    from ail_tui.continue_commands import ContinueRequest
    from ail_tui.tui.app import AilApp

BUSY = "A run is in progress: c cancels it first."
RUN_PANES = ("tab-problems", "tab-plan")
"""Panes that make way for the timeline when a run starts (others stay as chosen)."""


def go_on_from(log: Path, options: RunOptions, *, resume: bool, from_step: str | None,
               pipeline: Pipeline | None) -> Continuation:
    """Read ``log`` and make the run that resumes it (``resume``) or re-runs it.

    ``pipeline``: the one on screen, run when it is the file the earlier run ran (else
    that file is read again). Slow (reads and fingerprints): never on the UI thread.
    Raises :class:`CannotContinue` and ``OSError``.
    """
    record = read_run(log, times=False)
    if resume and record.status in FINISHED:
        raise CannotContinue(f"run {record.run_id[:8]} already finished ({record.status}); "
                             "nothing to resume — open it and press F on a step to re-run "
                             "from there")
    if pipeline is not None and str(pipeline.source) != record.pipeline_source:
        pipeline = None
    return continue_run(record, options, resume=resume, from_step=from_step,
                        pipeline=pipeline)


class RunStarts:
    """How the dashboard ``app`` starts its runs."""

    def __init__(self, app: AilApp) -> None:
        self.app = app
        self.opening = False
        """A run on another backend is being started from this process."""

    def options(self, prompt: str | None) -> RunOptions:
        """The options of a dashboard run (interactive: the person answers gates)."""
        app = self.app
        return RunOptions(prompt=prompt, runner=app.runner, model=app.model,
                          interactive=True, runners=app.runners, log_dir=app.log_dir,
                          orchestration=app.orchestration)

    def busy(self) -> bool:
        """Whether a live run is on screen and running (it must be cancelled first), or
        one is being started."""
        app = self.app
        launching = self.opening or (app.served is not None and app.served.launching)
        return launching or (app.view.running and not app.replaying)

    def start(self, pipeline: Pipeline, options: RunOptions, generation: int) -> None:
        """Start a run of ``pipeline``, in this process or in a run process of its own,
        and show it from its plan.

        ``generation``: the pipeline generation it runs (0: not the pipeline on screen).
        """
        if self.app.served is not None and self.app.served.usable():
            self.app.served.launch(pipeline, options, generation)  # shown when launched
            return
        if options.orchestration is not None:
            self._open_elsewhere(pipeline, options, generation)
            return
        run = LocalRun(pipeline, options)
        self.show(RunSession(RunView.planned(pipeline), generation=generation,
                             log=run.log_path), run.start())

    def _open_elsewhere(self, pipeline: Pipeline, options: RunOptions,
                        generation: int) -> None:
        """Start a run on another backend (Temporal) and follow it from this process:
        reaching the service takes a moment, so it happens on a worker thread."""
        app = self.app
        self.opening = True

        def begin() -> None:
            try:
                opened = open_run(pipeline, options)
                opened.start()
            except (RunNotStarted, OSError) as error:
                app.call_from_thread(app.notify, f"Could not start the run: {error}",
                                     severity="error", timeout=10)
                return
            finally:
                self.opening = False
            session = RunSession(RunView.planned(pipeline), generation=generation,
                                 log=opened.run.log_path, disconnect=opened.close)
            app.call_from_thread(self.show, session, opened.run)

        app.run_worker(begin, thread=True, group="run-start", exit_on_error=False)

    def launched(self, message: RunLaunched) -> None:
        """A run process started its run: show it (or say why it did not start)."""
        app = self.app
        assert app.served is not None
        app.served.launching = False
        run = message.run
        if not isinstance(run, RemoteRun):
            app.notify(f"Could not start the run: {message.error}", severity="error",
                       timeout=10)
            return
        self.show(RunSession(RunView.planned(message.pipeline), generation=message.generation,
                             log=run.log_path, detachable=True, release=run.release,
                             disconnect=run.close, wait_gone=run.wait_gone), run)

    def show(self, session: RunSession, run: RunHandle) -> None:
        """Show ``run`` on a new ``session``."""
        app = self.app
        app.begin(session)
        app.session.follow(run)
        if app.tabs.active in RUN_PANES:
            app.tabs.active = "tab-timeline"
        app.main.refresh_all()

    # -- a fresh run (r) -------------------------------------------------------------------

    def run(self) -> None:
        """Run the last good version of the pipeline (asks for a prompt when it needs one)."""
        app = self.app
        if app.pipeline_path is None:
            app.notify("There is no pipeline to run: no pipeline file is open, only a run "
                       "is shown (give one: ail-tui PIPELINE).", severity="warning")
            return
        if self.refused():
            return
        if app.pipeline is None:
            app.notify("No valid pipeline to run — see Problems.", severity="error")
            return
        if self.busy():
            app.notify(BUSY, severity="warning")
            return
        if app.prompt is None and app.needs_prompt:
            app.push_screen(PromptDialog(), self._prompt_given)
            return
        self.fresh(app.prompt)

    def refused(self) -> bool:
        """Whether the pipeline file is invalid: then no run starts (not even of the last
        good version), and Problems, shown, says why."""
        app = self.app
        result = app.result
        if result is None or result.valid:
            return False
        count = len(result.errors)
        app.notify(f"The pipeline file is invalid ({count} error{'s' if count != 1 else ''})"
                   ": fix it and save to run — see Problems.", severity="error", timeout=8)
        app.tabs.active = "tab-problems"
        return True

    def _prompt_given(self, text: str | None) -> None:
        if text is not None:
            self.app.prompt = text
            self.fresh(text)

    def fresh(self, prompt: str | None) -> None:
        """Start a run of the last good pipeline that reuses nothing."""
        app = self.app
        assert app.pipeline is not None
        self.start(app.pipeline, self.options(prompt), app.generation)

    # -- going on from an earlier run -------------------------------------------------------

    def resume(self, log: Path) -> None:
        """Resume the run of ``log`` in its own log (D1), from the history."""
        if self.refused():
            return
        if self.busy():
            self.app.notify(BUSY, severity="warning")
            return
        self.go_on(log, resume=True, from_step=None)

    def rerun_from_selected(self) -> None:
        """A new run of the run on screen that runs again from the selected step (its
        top-level step) and reuses the results before it (D4)."""
        app = self.app
        if self.refused():
            return
        if self.busy():
            app.notify(BUSY, severity="warning")
            return
        step, log = app.table.selected_step, app.view.log_path or app.session.log
        if step is None or log is None:
            app.notify("F re-runs the run on screen from the selected step: run one (r) "
                       "or open one from the history (h) first.", severity="warning")
            return
        self.go_on(Path(log), resume=False, from_step=top_step(step))

    def request(self, request: ContinueRequest) -> None:
        """Go on as ``ail-tui resume/rerun`` asked (once the pipeline is validated)."""
        self.go_on(request.log, resume=request.resume, from_step=request.from_step,
                   prompt=self.app.prompt)

    def go_on(self, log: Path, *, resume: bool, from_step: str | None,
              prompt: str | None = None) -> None:
        """Read ``log`` off the UI thread and start the run that goes on from it.

        ``prompt`` None: the earlier run's invocation prompt.
        """
        app = self.app
        what = "resume" if resume else (f"re-run from {from_step}" if from_step
                                        else "re-run")
        pipeline, generation = app.pipeline, app.generation
        options = self.options(prompt)

        def prepare() -> None:
            try:
                going_on = go_on_from(log, options, resume=resume, from_step=from_step,
                                      pipeline=pipeline)
            except (OSError, CannotContinue) as exc:
                message = RunContinued(what, None, str(exc))
            else:
                same = going_on.pipeline is pipeline
                message = RunContinued(what, going_on, generation=generation if same else 0)
            if not get_current_worker().is_cancelled:  # a newer request replaced this one
                app.post_message(message)

        app.run_worker(prepare, thread=True, group="continue", exclusive=True,
                       exit_on_error=False, description=f"{what} (read the run's log)")

    def continued(self, message: RunContinued) -> None:
        """The run that goes on is ready (or cannot be): start it."""
        app = self.app
        going_on = message.continuation
        if going_on is None:
            app.notify(f"Cannot {message.what}: {message.error}", severity="error",
                       timeout=10)
            return
        if self.busy():  # a run began meanwhile
            app.notify(BUSY, severity="warning")
            return
        self.start(going_on.pipeline, going_on.options, message.generation)
        reused = going_on.reusable
        app.notify(f"{message.what.capitalize()}: {reused} step result"
                   f"{'s' if reused != 1 else ''} reused.")

    # -- --watch-run ---------------------------------------------------------------------

    def after_save(self) -> None:
        """Cancel the run and start the saved pipeline, reusing what is unchanged."""
        self.app.run_worker(self._after_save(), group="rerun", exclusive=True,
                            exit_on_error=False, description="re-run after a save")

    async def _after_save(self) -> None:
        """Cancel the run (waiting for it off the UI thread), then start a new one that
        reuses the unchanged steps of the last one (a full run when there is no log)."""
        app = self.app
        run = app.current_run
        if run is not None and app.view.running:
            run.cancel("re-run after a save (--watch-run)")
            await asyncio.to_thread(run.wait, 5)
            app.drain()
        pipeline, generation = app.pipeline, app.generation
        log = app.session.log or app.view.log_path
        assert pipeline is not None
        options = self.options(app.prompt)
        going_on: Continuation | None = None
        if log is not None:
            try:
                going_on = await asyncio.to_thread(
                    go_on_from, Path(log), options, resume=False, from_step=None,
                    pipeline=pipeline)
            except (OSError, CannotContinue):
                going_on = None  # nothing to reuse: a full run
        if going_on is None or going_on.pipeline is not pipeline:
            self.start(pipeline, options, generation)
        else:
            self.start(going_on.pipeline, going_on.options, generation)
