"""The steps table: status, group, times, attempts, cost and tokens, updated by key."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime

from textual.binding import Binding
from textual.widgets import DataTable

from ail_tui.tui.run_view import RunView, StepRow

COLUMNS = ("status", "step", "kind", "group", "launched", "started", "done", "elapsed",
           "try", "cost", "tokens")
WIDTHS = {"status": 11, "kind": 7, "group": 11, "launched": 8, "started": 8, "done": 8,
          "elapsed": 7, "try": 3, "cost": 8, "tokens": 9}


def _clock(moment: float | None) -> str:
    return datetime.fromtimestamp(moment).strftime("%H:%M:%S") if moment else ""


def cells(row: StepRow, now: float | None = None) -> tuple[str, ...]:
    """The table cells of one step."""
    elapsed = row.elapsed(now)
    tokens = f"{row.input_tokens}/{row.output_tokens}" if (row.input_tokens
                                                           or row.output_tokens) else ""
    return (
        f"{row.glyph} {row.status}",
        row.step_id,
        row.kind,
        row.group or "",
        _clock(row.launched_at),
        _clock(row.started_at),
        _clock(row.completed_at),
        f"{elapsed:.1f}s" if elapsed is not None else "",
        str(row.attempts) if row.attempts else "",
        f"${row.cost_usd:.4f}" if row.cost_usd else "",
        tokens,
    )


class StepsTable(DataTable[str]):
    """One row per step; selection stays on its step as rows change."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="steps.down"),
        Binding("k", "cursor_up", "Up", show=False, id="steps.up"),
    ]

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for name in COLUMNS:
            self.add_column(name, key=name, width=WIDTHS.get(name))

    def show(self, view: RunView, changed: set[str] | None = None,
             tick: bool = False) -> None:
        """Add missing rows; update the rows in ``changed`` (all when None).

        ``tick`` also refreshes the elapsed time of running rows.
        """
        now = time.time()
        existing = {key.value for key in self.rows}
        top = int(self.scroll_y)
        visible = range(top, top + max(self.size.height, 1))
        for index, (step_id, row) in enumerate(view.rows.items()):
            if step_id not in existing:
                self.add_row(*cells(row, now), key=step_id)
            elif changed is None or step_id in changed or (
                    tick and index in visible and row.status in ("running", "queued",
                                                                 "waiting")):
                for column, value in zip(COLUMNS, cells(row, now), strict=True):
                    if self.get_cell(step_id, column) != value:
                        self.update_cell(step_id, column, value)
        for stale in existing - set(view.rows):
            self.remove_row(stale)

    @property
    def selected_step(self) -> str | None:
        """The step id of the highlighted row."""
        if self.row_count == 0:
            return None
        try:
            key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:
            return None
        return key.value

    def select_step(self, step_id: str) -> None:
        """Move the cursor to a step's row."""
        with contextlib.suppress(Exception):
            self.move_cursor(row=self.get_row_index(step_id))
