"""The box ``f`` opens under the steps table: it filters the steps by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.widgets import Input

if TYPE_CHECKING:
    from ail_tui.tui.widgets.steps_table import StepsTable


class StepNameFilter(Input):
    """The box ``f`` opens under the steps: typing filters them by name; ``enter`` keeps
    the filter, ``escape`` clears it; both close the box."""

    DEFAULT_CSS = "StepNameFilter { dock: bottom; height: 3; display: none; }"

    BINDINGS = [
        Binding("escape", "clear_filter", "Clear the step name filter", show=False,
                id="steps.name_filter_clear"),
    ]

    def __init__(self, **kwargs: str) -> None:
        super().__init__(placeholder="filter steps by name (enter: keep, escape: clear)",
                         **kwargs)  # type: ignore[arg-type]
        self._table: StepsTable | None = None

    def open(self, table: StepsTable) -> None:
        """Show the box for ``table``, with its current filter."""
        self._table = table
        self.value = table.step_tree.name_filter
        self.display = True
        self.focus()

    def _close(self) -> None:
        self.display = False
        if self._table is not None:
            self._table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the person types."""
        if self._table is not None and event.input is self:
            self._table.set_name_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """``enter``: keep the filter, close the box."""
        event.stop()
        self._close()

    def action_clear_filter(self) -> None:
        """``escape``: clear the filter, close the box."""
        self.value = ""
        if self._table is not None:
            self._table.set_name_filter("")
        self._close()
