"""A sub-pipeline step's own run, shown as rows under the step.

The engine runs a sub-pipeline as a run of its own, with its own turn log; its events do
not reach the dashboard, and the step's start names the child's run only to the turn log
(``child_run`` is record-only: a live run announces it without). So when a sub-pipeline
step ends, the child's run id is taken from its start (a replay tells it) or else from
the parent's turn log, the child's log (beside the parent's) is read off the UI thread,
and its steps become rows ``<step>::<child step>`` — its own sub-pipelines under them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

from ail_tui.engine import events as ev
from ail_tui.engine.recorded_events import recorded_events
from ail_tui.tui.run_view import UNKNOWN_KINDS, RunView, StepRow
from ail_tui.turnlog.reader import read_run

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp

MAX_DEPTH = 16
"""Sub-pipelines nested deeper than this are not read (the engine stops at 16 too)."""
_ENDS = (ev.StepCompleted, ev.StepFailed, ev.StepErrorContinued, ev.StepCancelled)


def child_run_ids(records: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Each sub-pipeline step's latest child run id, from a turn log's records."""
    return {record["step_id"]: record["child_run_id"] for record in records
            if record.get("type") == "step_started" and isinstance(record.get("step_id"), str)
            and isinstance(record.get("child_run_id"), str)}


def child_rows(step_id: str, log: Path, depth: int = 1) -> list[StepRow]:
    """The rows of the sub-pipeline run logged in ``log``, as ``<step_id>::<step>``, each
    followed by its own sub-pipeline's rows (none when ``log`` cannot be read)."""
    try:
        record = read_run(log)
    except OSError:
        return []
    view = RunView()
    for event in recorded_events(record):
        view.apply(event)
    children = child_run_ids(record.records)
    rows: list[StepRow] = []
    for row in view.rows.values():
        inner = replace(row, step_id=f"{step_id}::{row.step_id}")
        rows.append(inner)
        child = children.get(row.step_id)
        if child is not None and depth < MAX_DEPTH:
            rows += child_rows(inner.step_id, log.parent / f"{child}.jsonl", depth + 1)
    return rows


class ChildRowsRead(Message):
    """The rows of a sub-pipeline step's run were read, for ``view``."""

    def __init__(self, view: RunView, rows: list[StepRow]) -> None:
        super().__init__()
        self.view = view
        self.rows = rows


class ChildRuns:
    """Notes the sub-pipeline steps that end and reads their runs' rows."""

    def __init__(self, app: AilApp) -> None:
        self.app = app
        self.known: dict[str, str] = {}
        """Child run ids the events told (a replay's), by step id."""
        self.due: list[str] = []
        """Sub-pipeline steps that ended since the last :meth:`read`."""
        self._view: RunView | None = None

    def seen(self, event: ev.Event, view: RunView) -> None:
        """Take note of a sub-pipeline step's start (its child run) or end."""
        if view is not self._view:  # another run: what was noted is not its
            self._view = view
            self.known, self.due = {}, []
        if isinstance(event, ev.StepStarted) and event.child_run is not None:
            self.known[event.step_id] = event.child_run
        elif isinstance(event, _ENDS):
            row = view.rows.get(event.step_id)
            if row is not None and (row.kind == "pipeline" or row.kind in UNKNOWN_KINDS
                                    or event.step_id in self.known):
                self.due.append(event.step_id)

    def read(self, view: RunView) -> None:
        """Read the runs of the steps that ended, off the UI thread."""
        if not self.due or view.log_path is None:
            self.due.clear()
            return
        steps, known, log = list(self.due), dict(self.known), Path(view.log_path)
        self.due.clear()
        self.app.run_worker(lambda: self._read(view, log, steps, known), thread=True,
                            group="child-runs", exit_on_error=False,
                            description="read sub-pipeline runs")

    def _read(self, view: RunView, log: Path, steps: list[str],
              known: dict[str, str]) -> None:
        if any(step not in known for step in steps):
            try:
                known = {**child_run_ids(read_run(log, times=False).records), **known}
            except OSError:
                return
        rows: list[StepRow] = []
        for step in steps:
            child = known.get(step)
            if child is not None:
                rows += child_rows(step, log.parent / f"{child}.jsonl")
        if rows:
            self.app.post_message(ChildRowsRead(view, rows))
