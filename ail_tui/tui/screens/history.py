"""The history screen: this project's runs, newest first; enter opens one for replay (a
live one of another process: attached, A3), ``R`` resumes one that did not complete (D1).

Statuses read as in ``ail-tui logs``: a glyph and a word, and ``· resumable`` on a run
``ail-tui resume RUN_ID`` (or ``R`` here) can continue (interrupted, failed, aborted or
cancelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from ail_tui.report import display_path
from ail_tui.tui.run_view import GLYPH
from ail_tui.turnlog.store import RunSummary, local_time


@dataclass(frozen=True)
class HistoryPick:
    """The run chosen, and whether to resume it (else: open it for inspection)."""

    path: Path
    resume: bool = False
    live: str | None = None
    """The run id of a live run to attach to (None: read its log)."""


def not_resumable(run: RunSummary) -> str:
    """Why ``R`` cannot resume ``run``."""
    name = f"Run {run.run_id[:8]}"
    if run.status == "running":
        return f"{name} is still running: nothing to resume."
    if run.status in ("completed", "break"):
        return (f"{name} finished ({run.status}): nothing to resume. Open it (enter) and "
                "press F on a step to re-run it from there.")
    return f"{name} cannot be resumed ({run.status})."


class HistoryScreen(ModalScreen[HistoryPick | None]):
    """Pick a past run to inspect or resume."""

    BINDINGS = [
        Binding("escape,h", "close", "Close", id="history.close"),
        Binding("enter", "open", "Open", id="history.open"),
        Binding("R", "resume", "Resume", id="history.resume"),
    ]

    def __init__(self, runs: list[RunSummary], live: set[str] | None = None) -> None:
        super().__init__()
        self.runs = runs
        self.live = live or set()
        """Ids of the runs a process serves now: opening one attaches to it."""
        self.by_path = {str(run.path): run for run in runs}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            hint = "; R resumes a resumable one" if any(
                run.resumable for run in self.runs) else ""
            yield Label(f"Runs of this project ({len(self.runs)}) — enter opens one{hint}",
                        id="dialog-title")
            yield DataTable(id="history", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("started", "status", "duration", "cost", "steps", "pipeline",
                          "run id")
        for run in self.runs:
            counts = " ".join(f"{GLYPH.get(k, '?')}{v}" for k, v in
                              sorted(run.step_counts.items()))
            status = f"{run.status_text} · live" if run.run_id in self.live else run.status_text
            table.add_row(local_time(run.started_at), status,
                          f"{run.duration:.1f}s" if run.duration is not None else "",
                          f"${run.total_cost:.4f}", counts,
                          display_path(run.pipeline_source) if run.pipeline_source else "",
                          run.run_id[:8], key=str(run.path))
        table.focus()

    def selected(self) -> RunSummary | None:
        """The run under the cursor."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return self.by_path.get(str(key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the selected run: attached when live, else for inspection."""
        run = self.selected()
        if run is not None:
            live = run.run_id if run.run_id in self.live else None
            self.dismiss(HistoryPick(run.path, live=live))

    def action_resume(self) -> None:
        """Resume the selected run, in its own log (D1), when it did not complete."""
        run = self.selected()
        if run is None:
            return
        if not run.resumable:
            self.notify(not_resumable(run), severity="warning", timeout=8)
            return
        self.dismiss(HistoryPick(run.path, resume=True))
