"""The compare screen: two runs side by side, step by step (from the history: ``space``
marks two runs, ``d`` compares them).

On top, both runs (the older ``A``, the newer ``B``: start, status, wall time, cost, and
B's deltas); then a table of steps (status ``A → B``, times, costs, tokens, whether the
responses differ); below it, the selected step's response diff, ``+``/``-`` lines kept
beside their colours. Columns that do not fit the width are left out, least important
first. ``n``/``N`` go to the next/previous step that changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from ail_tui.run_compare import (
    RunComparison,
    StepComparison,
    StepSide,
    cost_delta_text,
    cost_text,
    delta_line,
    run_line,
    seconds_delta_text,
    seconds_text,
    tokens_text,
)


def _elapsed(side: StepSide | None) -> str:
    return seconds_text(side.elapsed if side else None)


def _cost(side: StepSide | None) -> str:
    return cost_text(side.cost if side else None)


@dataclass(frozen=True)
class Column:
    """A column of the steps table; ``rank`` 0 is the last to be left out."""

    key: str
    label: str
    rank: int
    cell: Callable[[StepComparison], str]


COLUMNS = (
    Column("step", "step", 0, lambda s: s.step_id),
    Column("status", "status A → B", 1, lambda s: s.status_change),
    Column("time_a", "time A", 7, lambda s: _elapsed(s.a)),
    Column("time_b", "time B", 5, lambda s: _elapsed(s.b)),
    Column("time_delta", "Δ time", 3, lambda s: seconds_delta_text(s.elapsed_delta)),
    Column("cost_a", "cost A", 8, lambda s: _cost(s.a)),
    Column("cost_b", "cost B", 6, lambda s: _cost(s.b)),
    Column("cost_delta", "Δ cost", 4, lambda s: cost_delta_text(s.cost_delta)),
    Column("tokens_a", "tokens A", 10, lambda s: tokens_text(s.a)),
    Column("tokens_b", "tokens B", 9, lambda s: tokens_text(s.b)),
    Column("response", "response", 2, lambda s: s.response_word),
)
"""In the order shown; ``rank`` says which stay when the screen is narrow."""
CELL_PADDING = 2
"""A DataTable cell's padding, left and right."""
SCROLLBAR = 2


def columns_that_fit(comparison: RunComparison, width: int) -> list[Column]:
    """The columns to show in ``width`` cells: by rank while they fit, in table order."""
    def needs(column: Column) -> int:
        cells = [column.cell(step) for step in comparison.steps]
        return max(len(text) for text in [column.label, *cells]) + CELL_PADDING

    room, kept = width - SCROLLBAR, set[str]()
    for column in sorted(COLUMNS, key=lambda c: c.rank):
        room -= needs(column)
        if room < 0 and kept:
            break
        kept.add(column.key)
    return [column for column in COLUMNS if column.key in kept]


class ResponseDiff(Static):
    """A unified diff of two responses: ``+`` lines added, ``-`` removed, ``@@`` hunks."""

    COMPONENT_CLASSES = {"diff--added", "diff--removed", "diff--hunk", "diff--file",
                         "diff--note"}

    def show(self, lines: list[str], empty: str) -> None:
        """Show ``lines``; ``empty`` when there are none."""
        if not lines:
            self.update(Text(empty, style=self.get_component_rich_style("diff--note")))
            return
        text = Text()
        for line in lines:
            if line.startswith(("+++", "---")):
                part = "diff--file"
            elif line.startswith("@@"):
                part = "diff--hunk"
            elif line.startswith("+"):
                part = "diff--added"
            elif line.startswith("-"):
                part = "diff--removed"
            elif line.startswith("…"):
                part = "diff--note"
            else:
                part = ""
            style = self.get_component_rich_style(part) if part else ""
            text.append(line + "\n", style=style)
        text.rstrip()
        self.update(text)


class CompareScreen(Screen[None]):
    """Two runs compared step by step."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="compare.close"),
        Binding("n", "next_change", "Next change", id="compare.next_change"),
        Binding("N", "previous_change", "Previous change", id="compare.previous_change"),
        Binding("j", "cursor(1)", "Next step", show=False, id="compare.down"),
        Binding("k", "cursor(-1)", "Previous step", show=False, id="compare.up"),
    ]

    def __init__(self, comparison: RunComparison) -> None:
        super().__init__()
        self.comparison = comparison
        self.by_id = {step.step_id: step for step in comparison.steps}
        self.shown: list[str] = []
        """Keys of the columns the table has now."""

    def compose(self) -> ComposeResult:
        c = self.comparison
        yield Static(Text("\n".join((run_line("A", c.a), run_line("B", c.b),
                                     delta_line(c)))), id="compare-runs")
        yield DataTable(id="compare-steps", cursor_type="row", zebra_stripes=True)
        yield Label(id="compare-diff-title")
        with VerticalScroll(id="compare-diff-pane"):
            yield ResponseDiff(id="compare-diff")
        yield Footer()

    @property
    def table(self) -> DataTable[str]:
        """The steps table."""
        return self.query_one("#compare-steps", DataTable)

    def on_mount(self) -> None:
        self.fill(self.app.size.width)
        self.table.focus()
        self.show_step()

    def on_resize(self, event: events.Resize) -> None:
        self.fill(event.size.width)

    def fill(self, width: int) -> None:
        """(Re)build the table with the columns that fit ``width``; the cursor stays."""
        columns = columns_that_fit(self.comparison, width)
        if [column.key for column in columns] == self.shown:
            return
        table = self.table
        row = table.cursor_row
        table.clear(columns=True)
        for column in columns:
            table.add_column(column.label, key=column.key)
        for step in self.comparison.steps:
            table.add_row(*(column.cell(step) for column in columns), key=step.step_id)
        self.shown = [column.key for column in columns]
        if self.comparison.steps:
            table.move_cursor(row=min(row, len(self.comparison.steps) - 1))

    @property
    def selected(self) -> StepComparison | None:
        """The step under the cursor."""
        table = self.table
        if not table.row_count:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return self.by_id.get(str(key.value))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_step()

    def show_step(self) -> None:
        """Show the selected step's response diff."""
        step, c = self.selected, self.comparison
        title = self.query_one("#compare-diff-title", Label)
        diff = self.query_one(ResponseDiff)
        if step is None:
            title.update("The runs have no steps.")
            diff.show([], "")
            return
        heading = f"Response of {step.step_id}: {c.a.short_id} → {c.b.short_id} — "
        heading += f"{step.response_word}"
        for name, side in ((c.a.short_id, step.a), (c.b.short_id, step.b)):
            if side is not None and side.error:
                heading += f" · {name} error: {side.error}"
        title.update(Text(heading))
        diff.show(c.diff(step), "(the same response in both runs)")
        self.query_one("#compare-diff-pane", VerticalScroll).scroll_home(animate=False)

    def action_cursor(self, rows: int) -> None:
        """Move the selection ``rows`` down (up when negative)."""
        table = self.table
        table.move_cursor(row=max(table.cursor_row + rows, 0))

    def action_next_change(self, direction: int = 1) -> None:
        """Select the next step (wrapping round) that changed: presence, status or response."""
        steps = self.comparison.steps
        start = self.table.cursor_row
        for offset in range(1, len(steps) + 1):
            index = (start + direction * offset) % len(steps)
            if steps[index].changed:
                self.table.move_cursor(row=index)
                return
        self.notify("No step changed between the two runs.", timeout=5)

    def action_previous_change(self) -> None:
        """Select the previous step that changed."""
        self.action_next_change(-1)

    def action_close(self) -> None:
        """Back to the history."""
        self.dismiss(None)
