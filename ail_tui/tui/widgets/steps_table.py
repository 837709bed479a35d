"""The steps table: status, elapsed, attempts, cost, tokens, model, group, times — a line per step.

Built on the line API: only the rows on screen are drawn, straight from the run view,
so a run of hundreds of branches costs no more to show than a run of ten. The
selection is kept by step id, so it stays on its step as rows change.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual._context import NoActiveAppError
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from ail_tui.tui.run_view import RunView, StepRow
from ail_tui.tui.runner_notes import retry_status
from ail_tui.tui.widgets.cached_style import CachedBaseStyle

# What a glance needs first; the clock times are furthest right.
COLUMNS = ("status", "step", "kind", "elapsed", "try", "cost", "tokens", "model", "group",
           "launched", "started", "done")
WIDTHS = {"status": 13, "kind": 7, "group": 11, "launched": 8, "started": 8, "done": 8,
          "elapsed": 7, "try": 3, "cost": 8, "tokens": 9, "model": 17}
_MODEL_DATE = re.compile(r"-\d{8}$")
STATUS_STYLE = {
    "running": Style(color="cyan", bold=True),
    "queued": Style(dim=True),
    "waiting": Style(color="magenta"),
    "done": Style(color="green"),
    "reused": Style(color="green", dim=True),
    "reconciled": Style(color="green", italic=True),
    "failed": Style(color="red", bold=True),
    "cancelled": Style(color="yellow"),
    "skipped": Style(dim=True),
    "not run": Style(dim=True, italic=True),
    "interrupted": Style(color="red"),
}
HEADER_STYLE = Style(bold=True, reverse=True)
CURSOR_STYLE = Style(reverse=True)


@lru_cache(maxsize=4096)
def _second(second: int) -> str:
    return datetime.fromtimestamp(second).strftime("%H:%M:%S")


def _clock(moment: float | None) -> str:
    return _second(int(moment)) if moment else ""


def cells(row: StepRow, now: float | None = None) -> tuple[str, ...]:
    """The table cells of one step."""
    elapsed = row.elapsed(now)
    tokens = f"{row.input_tokens}/{row.output_tokens}" if (row.input_tokens
                                                           or row.output_tokens) else ""
    return (
        retry_status(row.api_retry) if row.api_retry else row.label,
        row.step_id,
        row.kind,
        f"{elapsed:.1f}s" if elapsed is not None else "",
        str(row.attempts) if row.attempts else "",
        f"${row.cost_usd:.4f}" if row.cost_usd else "",
        tokens,
        _MODEL_DATE.sub("", row.model or ""),  # the full name is in the details
        row.group or "",
        _clock(row.launched_at),
        _clock(row.started_at),
        _clock(row.completed_at),
    )


def dashboard_now(widget: Widget) -> float:
    """The dashboard's clock (the header's: a test may set it), else the time of day."""
    try:
        clock = getattr(widget.app, "clock", None)
    except NoActiveAppError:  # drawn outside an app (a widget tested alone)
        clock = None
    return clock() if callable(clock) else time.time()


def _fit(text: str, width: int) -> str:
    return text[:width].ljust(width) if len(text) <= width else text[: width - 1] + "…"


class StepsTable(ScrollView, CachedBaseStyle, can_focus=True):
    """One line per step of the run view; ``j``/``k`` and arrows move the selection."""

    DEFAULT_CSS = "StepsTable { height: 100%; }"

    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="steps.down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="steps.up"),
        Binding("home", "first", "First step", show=False, id="steps.first"),
        Binding("end", "last", "Last step", show=False, id="steps.last"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="steps.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="steps.page_up"),
    ]

    class Highlighted(Message):
        """The selection moved to another step."""

        def __init__(self, step_id: str | None) -> None:
            super().__init__()
            self.step_id = step_id

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._view = RunView()
        self._ids: list[str] = []
        self._cursor = 0
        self._selected: str | None = None
        self._column_widths: list[int] = self._compute_widths()
        self._index: dict[str, int] = {}
        self._ended: float | None = None  # when the run shown ended, as last drawn

    # -- data ----------------------------------------------------------------------------

    def show(self, view: RunView, changed: set[str] | None = None,
             tick: bool = False) -> None:
        """Show ``view``; only the rows on screen are drawn, so every call is cheap.

        ``changed``: the steps whose cells changed (None: any; and any when the run has
        just ended, which closes the steps it left open or never reached); the rows on
        screen whose elapsed time counts up are drawn again every time, so they keep pace
        with the header's clock; ``tick``: draw every row again."""
        self._view = view
        just_ended, self._ended = view.finished_at != self._ended, view.finished_at
        ids = list(view.rows)
        if ids != self._ids:
            self._ids = ids
            self._index = {step_id: i for i, step_id in enumerate(ids)}
            self._column_widths = self._compute_widths()
            if self._selected in self._index:
                self._cursor = self._index[self._selected]
            else:
                self._cursor = min(self._cursor, max(len(ids) - 1, 0))
                self._announce()
            self.virtual_size = Size(self._line_width(), len(ids) + 1)
            self.refresh()
            return
        if changed is None or tick or just_ended:
            self.refresh()
            return
        top = int(self.scroll_offset.y)
        shown = max(self.size.height - 1, 0)
        for step_id in changed:
            index = self._index.get(step_id)
            if index is not None and top <= index < top + shown:
                self.refresh_line(index - top + 1)
        for index in range(top, min(top + shown, len(self._ids))):
            row = view.rows.get(self._ids[index])
            if row is not None and row.counting and row.step_id not in changed:
                self.refresh_line(index - top + 1)

    def clear(self) -> None:
        """Forget the rows (the next :meth:`show` brings new ones)."""
        self._ids = []
        self._index = {}
        self.refresh()

    @property
    def row_count(self) -> int:
        """How many steps are listed."""
        return len(self._ids)

    def get_cell(self, step_id: str, column: str) -> str:
        """The text of one cell, as drawn."""
        return cells(self._view.rows[step_id], dashboard_now(self))[COLUMNS.index(column)]

    @property
    def selected_step(self) -> str | None:
        """The step id of the highlighted row."""
        if not self._ids:
            return None
        return self._ids[min(self._cursor, len(self._ids) - 1)]

    def select_step(self, step_id: str) -> None:
        """Move the selection to a step's row."""
        if step_id in self._index:
            self._move(self._index[step_id])

    # -- movement ------------------------------------------------------------------------

    def _move(self, index: int) -> None:
        if not self._ids:
            return
        index = max(0, min(index, len(self._ids) - 1))
        previous = self._cursor
        changed = index != self._cursor or self._selected != self._ids[index]
        self._cursor = index
        self._selected = self._ids[index]
        top = int(self.scroll_offset.y)
        rows_shown = max(self.size.height - 1, 1)
        if index < top:
            self.scroll_to(y=index, animate=False)
            self.refresh()
        elif index >= top + rows_shown:
            self.scroll_to(y=index - rows_shown + 1, animate=False)
            self.refresh()
        else:  # only the rows the cursor left and entered change
            self.refresh_line(previous - top + 1)
            self.refresh_line(index - top + 1)
        if changed:
            self._announce()

    def _announce(self) -> None:
        self.post_message(self.Highlighted(self.selected_step))

    def action_cursor_down(self) -> None:
        """Select the next step."""
        self._move(self._cursor + 1)

    def action_cursor_up(self) -> None:
        """Select the previous step."""
        self._move(self._cursor - 1)

    def action_first(self) -> None:
        """Select the first step."""
        self._move(0)

    def action_last(self) -> None:
        """Select the last step."""
        self._move(len(self._ids) - 1)

    def action_page(self, direction: int) -> None:
        """Move a screenful."""
        self._move(self._cursor + direction * max(self.size.height - 2, 1))

    def on_click(self, event: events.Click) -> None:
        """Select the clicked row."""
        if event.y >= 1:
            self._move(int(self.scroll_offset.y) + event.y - 1)

    # -- drawing -------------------------------------------------------------------------

    def _compute_widths(self) -> list[int]:
        step_width = min(max([4, *(len(i) for i in getattr(self, "_ids", []))]), 24)
        return [step_width if name == "step" else WIDTHS[name] for name in COLUMNS]

    def _line_width(self) -> int:
        return sum(self._column_widths) + 2 * len(COLUMNS)

    def _line(self, texts: tuple[str, ...], style: Style, status_style: Style | None = None,
              ) -> list[Segment]:
        """Two segments: the status cell in its colour, then the rest of the row."""
        widths = self._column_widths
        first = Segment(f" {_fit(texts[0], widths[0])}",
                        style + status_style if status_style else style)
        rest = "".join(f"  {_fit(text, width)}"
                       for text, width in zip(texts[1:], widths[1:], strict=True))
        return [first, Segment(rest + "  ", style)]

    def render_line(self, y: int) -> Strip:
        """The header on the first line, then the rows under the scroll position."""
        width = self.size.width
        base = self.base_style
        if y == 0:
            segments = self._line(COLUMNS, base + HEADER_STYLE)
        else:
            index = int(self.scroll_offset.y) + y - 1
            if not 0 <= index < len(self._ids):
                return Strip.blank(width, base)
            row = self._view.rows.get(self._ids[index])
            if row is None:
                return Strip.blank(width, base)
            style = base + CURSOR_STYLE if index == self._cursor and self.has_focus else base
            if index == self._cursor and not self.has_focus:
                style = base + Style(underline=True)
            segments = self._line(cells(row, dashboard_now(self)), style,
                                  STATUS_STYLE.get(row.word))
        left = int(self.scroll_offset.x)
        return Strip(segments).crop(left, left + width).extend_cell_length(width, base)
