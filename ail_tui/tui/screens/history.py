"""The history screen: this project's runs, newest first; enter opens one for replay (a
live one of another process: attached, A3), ``R`` resumes one that did not complete (D1),
``space`` marks runs and ``d`` compares two of them step by step (the compare screen).

Statuses read as in ``ail-tui logs``: a glyph and a word, and ``· resumable`` on a run
``ail-tui resume RUN_ID`` (or ``R`` here) can continue (interrupted, failed, aborted or
cancelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label

from ail_tui.report import display_path
from ail_tui.run_compare import RunComparison, compare_logs
from ail_tui.tui.run_view import GLYPH
from ail_tui.tui.screens.compare import CompareScreen
from ail_tui.turnlog.store import RunSummary, local_time

MARK = "◉"
"""In the first column of a run marked for comparison (``space``)."""
MARK_TWO = ("Mark two runs with space, then press d to compare them "
            "(or mark one and press d on another).")


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
        Binding("space", "mark", "Mark to compare", id="history.mark"),
        Binding("d", "compare", "Compare marked", id="history.compare"),
    ]

    def __init__(self, runs: list[RunSummary], live: set[str] | None = None) -> None:
        super().__init__()
        self.runs = runs
        self.live = live or set()
        """Ids of the runs a process serves now: opening one attaches to it."""
        self.by_path = {str(run.path): run for run in runs}
        self.marked: list[str] = []
        """Paths of the runs marked for comparison, oldest mark first (two at most)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            hint = "; R resumes a resumable one" if any(
                run.resumable for run in self.runs) else ""
            yield Label(f"Runs of this project ({len(self.runs)}) — enter opens one{hint}",
                        id="dialog-title")
            yield DataTable(id="history", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("  started", key="started")
        table.add_columns("status", "duration", "cost", "steps", "pipeline", "run id")
        for run in self.runs:
            counts = " ".join(f"{GLYPH.get(k, '?')}{v}" for k, v in
                              sorted(run.step_counts.items()))
            status = f"{run.status_text} · live" if run.run_id in self.live else run.status_text
            table.add_row(self.started_cell(run), status,
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

    def started_cell(self, run: RunSummary) -> str:
        """The first cell of a run's row: its start, after a mark when it is marked."""
        return f"{MARK if str(run.path) in self.marked else ' '} {local_time(run.started_at)}"

    def action_mark(self) -> None:
        """Mark the selected run for comparison, or unmark it; a third mark replaces the
        oldest."""
        run = self.selected()
        if run is None:
            return
        key = str(run.path)
        self.marked = ([path for path in self.marked if path != key] if key in self.marked
                       else [*self.marked, key][-2:])
        table = self.query_one(DataTable)
        for summary in self.runs:
            table.update_cell(str(summary.path), "started", self.started_cell(summary))

    def to_compare(self) -> tuple[Path, Path] | None:
        """The two marked runs, or the one marked and the selected one; else None."""
        paths = list(self.marked)
        run = self.selected()
        if len(paths) == 1 and run is not None and str(run.path) not in paths:
            paths.append(str(run.path))
        if len(paths) != 2:
            return None
        return Path(paths[0]), Path(paths[1])

    def action_compare(self) -> None:
        """Compare two runs step by step (read off the UI thread), on a screen of its own."""
        pair = self.to_compare()
        if pair is None:
            self.notify(MARK_TWO, severity="warning", timeout=8)
            return
        self.app.run_worker(partial(self._compare, *pair), thread=True, group="compare",
                            exclusive=True, exit_on_error=False, description="compare runs")

    def _compare(self, first: Path, second: Path) -> None:
        try:
            comparison = compare_logs(first, second)
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Cannot compare: {exc}",
                                      severity="error")
            return
        self.app.call_from_thread(self.show_comparison, comparison)

    def show_comparison(self, comparison: RunComparison) -> None:
        """Open the compare screen over the history (escape comes back here)."""
        self.app.push_screen(CompareScreen(comparison))
