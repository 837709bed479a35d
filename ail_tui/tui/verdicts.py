"""What a verdict on the pipeline file changes: the last good version, the Problems and
Plan panes, the files watched, and the runs a verdict starts (``--autorun``,
``ail-tui resume/rerun``, ``--watch-run``).

A valid save never wipes a run from the screen: a finished, replayed or attached run
stays as it was, the Plan pane shows the new version, and the status bar says the
pipeline changed since the run (``r`` runs the new version). Only a screen without a run
shows the plan of the new version as its rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ail_tui.pipeline.loader import LoadResult
from ail_tui.tui.run_view import RunView
from ail_tui.tui.widgets.plan import render_plan
from ail_tui.tui.widgets.problems import render_problems

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp


class Verdicts:
    """Takes the verdicts on the dashboard ``app``'s pipeline file."""

    def __init__(self, app: AilApp) -> None:
        self.app = app

    def take(self, result: LoadResult) -> None:
        """Show ``result`` (a validation of the pipeline file) and act on it."""
        app = self.app
        app.result = result
        app.validated_at = app.clock()
        if result.valid and result.pipeline is not None:
            first = app.pipeline is None
            app.pipeline = result.pipeline
            app.generation += 1
            if first and app.session.attached and app.current_run is not None:
                app.open_attached(app.current_run)  # again, with the steps still to come
            if app.session.run is None:  # no run on screen: its rows are the plan
                app.session.view = RunView.planned(app.pipeline)
                app.main.dirty = set(app.view.rows)
                app.table.clear()
        app.watcher.watch(set(result.files) | {app.pipeline_path} if app.pipeline_path
                          else set())
        app.problems.update(render_problems(result, str(app.pipeline_path)))
        if result.valid and app.pipeline is not None:
            app.runner_checks = None
            app.watcher.check_runners(app.pipeline)
        app.plan.update(render_plan(app.pipeline, app.runner_checks))
        app.main.refresh_all()
        if not result.valid:
            app.tabs.active = "tab-problems"
        elif app.continue_from is not None:  # ail-tui resume/rerun: instead of autorun
            request, app.continue_from, app.autorun = app.continue_from, None, False
            app.starts.request(request)
        elif app.autorun:
            app.autorun = False
            app.action_run()
        elif app.watch_run and 0 < app.session.generation < app.generation:
            app.starts.after_save()
