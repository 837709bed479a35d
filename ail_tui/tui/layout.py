"""Where the steps table ends and the panes begin: the split a person chose, its bounds,
and its default.

Side by side (terminals of at least :data:`NARROW_BELOW` columns) the split is the
table's width in columns; stacked (narrower terminals: the table above the panes) it is
the table's height in lines. By default the table is as wide as its columns need (up
to two thirds of the width, and never narrower than status, step and elapsed need), and
stacked as tall as its rows (up to half the height). Whatever the person chose is kept
for the session, within bounds that leave both sides in sight. :class:`Split` is the
arithmetic; :class:`SplitLayout` applies it to the main screen's widgets, and maximizes
the table or the panes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.widget import Widget
from textual.widgets import Footer

from ail_tui.tui.widgets.steps_table import CAPS, FIXED, STEP_MIN

if TYPE_CHECKING:
    from ail_tui.tui.screens.main import MainScreen

NARROW_BELOW = 100
"""Terminals narrower than this stack the table above the panes."""
STEP_COLUMNS = 4
"""How far one ``<`` or ``>`` moves the split side by side."""
STEP_LINES = 2
"""How far one ``<`` or ``>`` moves the split stacked."""
MOST_OF_WIDTH = 2 / 3
MOST_OF_HEIGHT = 1 / 2
LEAST_TABLE_COLUMNS = 20
LEAST_PANES_COLUMNS = 30
LEAST_TABLE_LINES = 3
"""The header and two rows."""
LEAST_PANES_LINES = 6
"""The tabs and a few lines of the pane shown."""


def _within(value: int, least: int, most: int) -> int:
    """``value`` brought between ``least`` and ``most`` (``most`` wins if they cross)."""
    return max(min(value, most), min(least, most))


@dataclass
class Split:
    """The table's size a person chose: columns side by side, lines stacked (None: the
    default)."""

    columns: int | None = None
    lines: int | None = None

    def table_columns(self, space: int, full: int, least: int) -> int:
        """The table's width side by side, in ``space`` columns for table and panes;
        ``full`` shows every column uncut, ``least`` shows status, step and elapsed."""
        if self.columns is not None:
            return _within(self.columns, LEAST_TABLE_COLUMNS, space - LEAST_PANES_COLUMNS)
        most = min(int(space * MOST_OF_WIDTH), space - LEAST_PANES_COLUMNS)
        return _within(min(full, most), min(least, most), most)

    def table_lines(self, space: int, rows: int) -> int:
        """The table's height stacked, in ``space`` lines for table and panes; ``rows``:
        the lines its rows need (header and scroll bar included)."""
        if self.lines is not None:
            return _within(self.lines, LEAST_TABLE_LINES, space - LEAST_PANES_LINES)
        most = min(int(space * MOST_OF_HEIGHT), space - LEAST_PANES_LINES)
        return _within(rows, LEAST_TABLE_LINES, most)

    def move(self, stacked: bool, current: int, by: int) -> None:
        """Move the split ``by`` steps (negative: a smaller table) from ``current``, the
        table's size now."""
        if stacked:
            self.lines = current + by * STEP_LINES
        else:
            self.columns = current + by * STEP_COLUMNS

    def reset(self) -> None:
        """Back to the default split, both ways."""
        self.columns = self.lines = None


def least_columns(full: int) -> int:
    """A width that keeps status, step and elapsed of a table ``full`` wide uncut (the
    table leaves out its other columns first): their widest, or ``full`` if less."""
    return min(full, 1 + CAPS["status"] + 2 + 2 * STEP_MIN + 2 + FIXED["elapsed"] + 2)


def _size(widget: Widget, width: int | None, height: int | None) -> None:
    """Give ``widget`` this width and height (None: as its CSS says), touching only the
    rules that change: setting one, even to what it was, lays the whole screen out."""
    styles = widget.styles
    if width is None:
        if styles.inline.has_rule("width"):
            styles.width = None
    else:
        styles.width = width  # Textual lays out again only when the value changes
    if height is None:
        if styles.inline.has_rule("height"):
            styles.height = None
    else:
        styles.height = height


class SplitLayout:
    """The split of the main screen ``screen``, applied whenever the screen's size, the
    table's rows or what is maximized change."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.split = Split()
        self.body = screen.query_one("#body")
        self.table_size = 0
        """The table's size as last applied: columns, or lines when stacked."""
        screen.watch(screen.table, "virtual_size", self.apply, init=False)
        screen.watch(screen, "maximized", self._maximized, init=False)

    @property
    def stacked(self) -> bool:
        """Whether the table is above the panes (a narrow terminal)."""
        return self.screen.size.width < NARROW_BELOW

    def resized(self) -> None:
        """The screen changed size: fit the footer now, the table once laid out."""
        self.fit_footer()
        self.screen.call_after_refresh(self.apply)

    def fit_footer(self) -> None:
        """Narrow, the footer is compact and leaves out the palette's key (ctrl+p still
        opens it): the essential keys fit in 80 columns."""
        footer = self.screen.query_one(Footer)
        narrow = self.stacked
        footer.compact = narrow
        if footer.show_command_palette == narrow:
            footer.show_command_palette = not narrow
            footer.refresh(recompose=True)

    def apply(self) -> None:
        """Size the table for the split (a maximized widget fills the screen instead)."""
        table = self.screen.table
        if self.screen.maximized is not None or not self.body.size:
            _size(table, None, None)
            return
        width, height = self.body.size
        full = table.full_width()
        if self.stacked:
            self.table_size = self.split.table_lines(height - 1, table.row_count + 1)
            _size(table, None, self.table_size)
        else:
            if table.row_count + 1 > height:
                full += table.styles.scrollbar_size_vertical
            self.table_size = self.split.table_columns(width - 1, full, least_columns(full))
            _size(table, self.table_size, None)

    def _maximized(self) -> None:
        """Something was maximized (it fills the screen now) or restored (the split is
        applied once the panes are laid out again)."""
        if self.screen.maximized is None:
            self.screen.call_after_refresh(self.apply)
        else:
            self.apply()

    def move(self, by: int) -> None:
        """Give the table ``by`` steps more room (negative: less)."""
        self.split.move(self.stacked, self.table_size, by)
        self.apply()

    def drag_to(self, x: int, y: int) -> None:
        """The divider was dragged to ``x``, ``y`` on the screen: the table ends there."""
        region = self.body.region
        if self.stacked:
            self.split.lines = y - region.y
        else:
            self.split.columns = x - region.x
        self.apply()

    def reset(self) -> None:
        """Back to the default split."""
        self.split.reset()
        self.apply()

    def toggle_maximize(self) -> None:
        """Fill the screen with the focused pane (the table, or the panes when the focus
        is in them), or restore the split if something fills it."""
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = screen.focused
        in_panes = focused is not None and screen.tabs in focused.ancestors_with_self
        screen.maximized = screen.tabs if in_panes else screen.table
