"""The history screen: this project's runs, newest first; enter opens one for replay.

Statuses read as in ``ail-tui logs``: a glyph and a word, and ``· resumable`` on a run
``ail-tui resume RUN_ID`` can continue (interrupted, failed, aborted or cancelled).
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from ail_tui.report import display_path
from ail_tui.tui.run_view import GLYPH
from ail_tui.turnlog.store import RunSummary, local_time


class HistoryScreen(ModalScreen[Path | None]):
    """Pick a past run to inspect."""

    BINDINGS = [
        Binding("escape,h", "close", "Close", id="history.close"),
        Binding("enter", "open", "Open", id="history.open"),
    ]

    def __init__(self, runs: list[RunSummary]) -> None:
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            hint = "; resumable: ail-tui resume RUN_ID" if any(
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
            table.add_row(local_time(run.started_at), run.status_text,
                          f"{run.duration:.1f}s" if run.duration is not None else "",
                          f"${run.total_cost:.4f}", counts,
                          display_path(run.pipeline_source) if run.pipeline_source else "",
                          run.run_id[:8], key=str(run.path))
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(Path(str(event.row_key.value)))

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
            self.dismiss(Path(str(key.value)))

    def action_close(self) -> None:
        self.dismiss(None)
