"""The steps table: status, elapsed, attempts, cost, tokens, model, group, times — a line per step.

Built on the line API: only the rows on screen are drawn, straight from the run view,
so a run of hundreds of branches costs no more to show than a run of ten. Inner steps
(chains, loop bodies, sub-pipelines) sit under their parent as a tree that folds
(:mod:`ail_tui.tui.step_tree`); ``v`` and ``f`` filter it by status and by name. The
selection is kept by step id, so it stays on its step as rows change.

Columns are as wide as their content (up to a cap), so no value is cut; a table
narrower than every column leaves out the least needed first (status, step and elapsed
always stay) and the step column takes what is left.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual._context import NoActiveAppError
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from ail_tui.tui.run_view import RunView, StepRow
from ail_tui.tui.runner_notes import retry_status
from ail_tui.tui.step_tree import STATUS_VIEWS, StepTree, Summary, summarise
from ail_tui.tui.widgets.cached_style import CachedBaseStyle
from ail_tui.tui.widgets.growing import resize_virtual
from ail_tui.tui.widgets.scroll_bar import keep_bar_lines, move_thumb

# What a glance needs first; the clock times are furthest right.
COLUMNS = ("status", "step", "kind", "elapsed", "try", "cost", "tokens", "model", "group",
           "launched", "started", "done")
PRIORITY = ("status", "step", "elapsed", "kind", "try", "cost", "tokens", "model", "done",
            "group", "started", "launched")
"""Columns from the most needed to the least: a narrow table leaves out the last first."""
ALWAYS = 3
"""The first columns of PRIORITY every width shows."""
FIXED = {"elapsed": 8, "launched": 8, "started": 8, "done": 8}
"""Columns whose values have one width."""
CAPS = {"status": 16, "kind": 16, "try": 4, "cost": 10, "tokens": 15, "model": 24,
        "group": 20, "step": 60}
"""The most a column measured from its content takes (a longer value is cut with …)."""
STEP_MIN = 8
REBUILD_SECONDS = (0.25, 2.0)
"""While rows keep coming (a storm), the tree's order is worked out at most this often:
for fewer than BIG_TREE rows, and for more."""
BIG_TREE = 1000
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
FILTER_STYLE = Style(bold=True)
CURSOR_STYLE = Style(reverse=True)
UNDERLINE_STYLE = Style(underline=True)
"""The cursor's row while the table has not the focus."""
KEPT_STRIPS = 2000
"""Rows' drawn lines kept for drawing them again unchanged (more: all are forgotten)."""


class _Pen(NamedTuple):
    """What drawing a line of the table needs, worked out once for the lines of a frame."""

    width: int
    left: int
    top: int
    head: int
    base: Style
    cursor: Style
    now: float


@lru_cache(maxsize=4096)
def _second(second: int) -> str:
    return datetime.fromtimestamp(second).strftime("%H:%M:%S")


def _clock(moment: float | None) -> str:
    return _second(int(moment)) if moment else ""


def _duration(seconds: float) -> str:
    """Seconds in at most 8 characters (hours beyond a day)."""
    return f"{seconds:.1f}s" if seconds < 99_999.5 else f"{seconds / 3600:.1f}h"


def cells(row: StepRow, now: float | None = None) -> tuple[str, ...]:
    """The table cells of one step (its step cell: the whole id)."""
    elapsed = row.elapsed(now)
    tokens = f"{row.input_tokens}/{row.output_tokens}" if (row.input_tokens
                                                           or row.output_tokens) else ""
    return (
        retry_status(row.api_retry) if row.api_retry else row.label,
        row.step_id,
        row.kind,
        _duration(elapsed) if elapsed is not None else "",
        str(row.attempts) if row.attempts else "",
        f"${row.cost_usd:.4f}" if row.cost_usd else "",
        tokens,
        _MODEL_DATE.sub("", row.model or ""),  # the full name is in the details
        row.group or "",
        _clock(row.launched_at),
        _clock(row.started_at),
        _clock(row.completed_at),
    )


def _measured(row: StepRow) -> tuple[tuple[str, str], ...]:
    """The cells of ``row`` whose column is as wide as its content (as :func:`cells`)."""
    return (("status", retry_status(row.api_retry) if row.api_retry else row.label),
            ("kind", row.kind),
            ("try", str(row.attempts) if row.attempts else ""),
            ("cost", f"${row.cost_usd:.4f}" if row.cost_usd else ""),
            ("tokens", f"{row.input_tokens}/{row.output_tokens}"
             if row.input_tokens or row.output_tokens else ""),
            ("model", _MODEL_DATE.sub("", row.model) if row.model else ""),
            ("group", row.group or ""))


def dashboard_now(widget: Widget) -> float:
    """The dashboard's clock (the header's: a test may set it), else the time of day."""
    try:
        clock = getattr(widget.app, "clock", None)
    except NoActiveAppError:  # drawn outside an app (a widget tested alone)
        clock = None
    return clock() if callable(clock) else time.time()


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


def _natural_widths() -> dict[str, int]:
    """Each column's width before any row is measured: its header's (or fixed) width."""
    return {name: FIXED.get(name, len(name)) for name in COLUMNS}


class StepsTable(ScrollView, CachedBaseStyle, can_focus=True):
    """One line per step of the run view, as a tree; ``j``/``k`` and arrows move the
    selection, ``space``/``left``/``right`` fold, ``v``/``f`` filter."""

    DEFAULT_CSS = "StepsTable { height: 100%; }"

    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="steps.down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="steps.up"),
        Binding("home", "first", "First step", show=False, id="steps.first"),
        Binding("end", "last", "Last step", show=False, id="steps.last"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="steps.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="steps.page_up"),
        Binding("space", "fold", "Fold / unfold the step's inner steps", show=False,
                id="steps.fold"),
        Binding("left", "collapse", "Fold, or go to the parent step", show=False,
                id="steps.collapse"),
        Binding("right", "expand", "Unfold the step's inner steps", show=False,
                id="steps.expand"),
        Binding("v", "status_filter", "Steps shown: all / failed first / failed / running",
                show=False, id="steps.status_filter"),
        Binding("f", "name_filter", "Filter steps by name", show=False,
                id="steps.name_filter"),
    ]

    class Highlighted(Message):
        """The selection moved to another step."""

        def __init__(self, step_id: str | None) -> None:
            super().__init__()
            self.step_id = step_id

    class NameFilterAsked(Message):
        """``f``: the screen should open the name filter box for this table."""

        def __init__(self, table: StepsTable) -> None:
            super().__init__()
            self.table = table

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._view = RunView()
        self._tree = StepTree()
        self._cursor = 0
        self._selected: str | None = None
        self._natural = _natural_widths()
        self._step_natural = STEP_MIN
        self._layout: tuple[tuple[int, int], ...] = ()  # (column index, width) of those shown
        self._summaries: dict[str, Summary] = {}
        self._ended: float | None = None  # when the run shown ended, as last drawn
        self._stale = False  # rows came or moved since the tree's order was worked out
        self._moved = False  # rows moved (not only came): it is worked out whole again
        self._rebuilt = 0.0  # when it was (time.monotonic)
        self._due: Timer | None = None  # to work it out, when put off
        self._drawing: _Pen | None = None  # while the lines of a frame are drawn
        self._drawn: tuple[object, ...] = ()  # the columns and scroll the kept lines fit
        self._strips: dict[tuple[object, ...], Strip] = {}
        self._relayout()

    # -- data ----------------------------------------------------------------------------

    def show(self, view: RunView, changed: set[str] | None = None,
             tick: bool = False) -> None:
        """Show ``view``; only the rows on screen are drawn, so every call is cheap.

        ``changed``: the steps whose cells changed (None: any; and any when the run has
        just ended, which closes the steps it left open or never reached); the rows on
        screen whose elapsed time counts up are drawn again every time, so they keep pace
        with the header's clock; ``tick``: draw every row again. The tree's order is
        worked out again only when rows come or go, or a status filter's rows change —
        then at most every REBUILD_SECONDS while rows keep changing."""
        if view is not self._view:
            self._natural = _natural_widths()
            self._stale, self._moved, self._rebuilt = True, True, 0.0
        self._view = view
        just_ended, self._ended = view.finished_at != self._ended, view.finished_at
        every = changed is None or just_ended
        grew = False
        if every or changed:
            self._summaries.clear()
            grew = self._measure(view.rows.values() if every else
                                 (view.rows[i] for i in changed or () if i in view.rows))
        self._moved = self._moved or self._tree.moved(view.rows if every else changed or (),
                                                      self._status_of)
        self._stale = self._stale or self._moved or len(view.rows) != self._tree.count
        every_so_often = REBUILD_SECONDS[len(view.rows) >= BIG_TREE]
        wait = self._rebuilt + every_so_often - time.monotonic()
        if self._stale and (every or wait <= 0):
            self._rebuild(whole=self._moved)
            return
        if self._stale and self._due is None:  # nothing else may come to show it
            self._due = self.set_timer(wait, self._rebuild_due, name="steps tree")
        if every or tick or grew:
            self._relayout()
            self.refresh()
        else:
            self._refresh_rows(changed or set())

    def _rebuild_due(self) -> None:
        """The tree's order put off by :meth:`show`, worked out now if still stale."""
        self._due = None
        if self._stale:
            self._rebuild(whole=self._moved)

    def _refresh_rows(self, changed: set[str]) -> None:
        """Draw again the changed rows on screen, their parents, and the counting ones."""
        top = int(self.scroll_offset.y)
        shown = max(self.size.height - self._head, 0)
        index = self._tree.index
        lines: set[int] = set()
        for step_id in changed:
            for step in (step_id, *self._tree.ancestors(step_id)):
                at = index.get(step)
                if at is not None and top <= at < top + shown:
                    lines.add(at)
        visible, rows = self._tree.visible, self._view.rows
        for at in range(top, min(top + shown, len(visible))):
            row = rows.get(visible[at])
            if row is not None and row.counting:
                lines.add(at)
        for at in lines:
            self.refresh_line(at - top + self._head)

    def clear(self) -> None:
        """Forget the rows (the next :meth:`show` brings new ones)."""
        self._view = RunView()
        self._natural = _natural_widths()
        self._rebuild()

    def full_width(self) -> int:
        """The width that shows every column uncut (tree indentation included)."""
        return sum(self._natural[name] for name in COLUMNS if name != "step") \
            + self._step_natural + 2 * len(COLUMNS)

    @property
    def row_count(self) -> int:
        """How many steps are listed (shown: not folded away or filtered out)."""
        return len(self._tree.visible)

    @property
    def shown_ids(self) -> list[str]:
        """The step ids listed, top to bottom."""
        return list(self._tree.visible)

    @property
    def step_tree(self) -> StepTree:
        """The rows as a tree: parents, folds, filters."""
        return self._tree

    def get_cell(self, step_id: str, column: str) -> str:
        """The text of one cell (the step cell: its tree label and children's badge)."""
        if column == "step":
            return self._step_text(step_id)
        return cells(self._view.rows[step_id], dashboard_now(self))[COLUMNS.index(column)]

    @property
    def selected_step(self) -> str | None:
        """The step id of the highlighted row."""
        visible = self._tree.visible
        if not visible:
            return None
        return visible[min(self._cursor, len(visible) - 1)]

    def select_step(self, step_id: str) -> None:
        """Move the selection to a step's row (unfolding the rows it is inside)."""
        hidden = [up for up in self._tree.ancestors(step_id) if up in self._tree.collapsed]
        if hidden:
            self._tree.collapsed.difference_update(hidden)
            self._selected = step_id
            self._rebuild()
        if step_id in self._tree.index:
            self._move(self._tree.index[step_id])

    # -- tree and filters ----------------------------------------------------------------

    @property
    def _head(self) -> int:
        """Lines above the rows: the filter line (when filtering) and the header."""
        return 2 if self._tree.filtering() else 1

    def _status_of(self, step_id: str) -> str:
        return self._view.rows[step_id].status

    def _rebuild(self, whole: bool = True) -> None:
        """Work out the visible rows again (``whole``: from scratch, else by placing the
        rows that came alone where the tree can); the selection stays on its step if
        shown."""
        before, full = self.selected_step, self.full_width()
        tree = self._tree
        tree.set_rows(self._view.rows)
        extended = not whole and tree.extend(self._status_of)
        if not extended:
            tree.rebuild(self._status_of)
        self._stale, self._moved, self._rebuilt = False, False, time.monotonic()
        self._step_natural = min(max(STEP_MIN, tree.widest), CAPS["step"])
        wanted = self._selected if self._selected in tree.index else before
        cursor = self._cursor
        if wanted in tree.index:
            self._cursor = tree.index[wanted]
        else:
            self._cursor = min(self._cursor, max(len(tree.visible) - 1, 0))
        # Rows placed alone in columns as wide as before: no need to lay the screen out.
        self._relayout(quiet=extended and self.full_width() == full)
        self.refresh()
        if self._cursor != cursor:  # the selection moved: keep it in sight
            self._reveal(self._cursor, cursor)
        if self.selected_step != before:
            self._announce()

    def _step_text(self, step_id: str) -> str:
        """The step cell: guides, fold glyph, name, and a parent's children's badge."""
        label = self._tree.label(step_id)
        if not self._tree.is_parent(step_id):
            return label
        summary = self._summaries.get(step_id)
        if summary is None:
            rows = self._view.rows
            summary = self._summaries[step_id] = summarise(
                rows[i].word for i in self._tree.descendants(step_id) if i in rows)
        return f"{label} [{summary.text}]"

    def filter_text(self) -> str:
        """What the filter line says, e.g. ``filter: failed only · name "lint" · 3/40``."""
        tree = self._tree
        parts = [tree.status_view] if tree.status_view != "all" else []
        if tree.name_filter:
            parts.append(f'name "{tree.name_filter}"')
        parts.append(f"{len(tree.visible)}/{len(self._view.rows)} shown")
        return "filter: " + " · ".join(parts)

    def set_name_filter(self, text: str) -> None:
        """Show only the steps whose id holds ``text`` (any case), with their parents."""
        if text != self._tree.name_filter:
            self._tree.name_filter = text
            self._rebuild()

    def action_status_filter(self) -> None:
        """Cycle the status view: all, failed first, failed only, running only."""
        views = STATUS_VIEWS
        self._tree.status_view = views[(views.index(self._tree.status_view) + 1) % len(views)]
        self._rebuild()

    def action_name_filter(self) -> None:
        """Ask for the name filter box."""
        self.post_message(self.NameFilterAsked(self))

    def action_fold(self) -> None:
        """Fold or unfold the selected step's inner steps."""
        step = self.selected_step
        if step is not None and self._tree.is_parent(step):
            self._tree.toggle(step)
            self._rebuild()

    def action_collapse(self) -> None:
        """Fold the selected step, or (folded, or a step with none inside) go to its parent."""
        step = self.selected_step
        if step is None:
            return
        if self._tree.is_parent(step) and step not in self._tree.collapsed:
            self._tree.toggle(step)
            self._rebuild()
        elif (parent := self._tree.parent.get(step)) is not None:
            self.select_step(parent)

    def action_expand(self) -> None:
        """Unfold the selected step."""
        step = self.selected_step
        if step is not None and step in self._tree.collapsed:
            self._tree.toggle(step)
            self._rebuild()

    # -- movement ------------------------------------------------------------------------

    def _move(self, index: int) -> None:
        visible = self._tree.visible
        if not visible:
            return
        index = max(0, min(index, len(visible) - 1))
        previous = self._cursor
        changed = index != self._cursor or self._selected != visible[index]
        self._cursor = index
        self._selected = visible[index]
        self._reveal(index, previous)
        if changed:
            self._announce()

    def _reveal(self, index: int, previous: int) -> None:
        """Scroll row ``index`` into sight; draw it and row ``previous`` again."""
        top = int(self.scroll_offset.y)
        rows_shown = max(self.size.height - self._head, 1)
        if index < top:
            self.scroll_to(y=index, animate=False)
            self.refresh()
        elif index >= top + rows_shown:
            self.scroll_to(y=index - rows_shown + 1, animate=False)
            self.refresh()
        else:  # only the rows the cursor left and entered change
            self.refresh_line(previous - top + self._head)
            self.refresh_line(index - top + self._head)

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
        self._move(len(self._tree.visible) - 1)

    def action_page(self, direction: int) -> None:
        """Move a screenful."""
        self._move(self._cursor + direction * max(self.size.height - self._head - 1, 1))

    def on_click(self, event: events.Click) -> None:
        """Select the clicked row; a click on a fold glyph folds or unfolds it."""
        if event.y < self._head:
            return
        index = int(self.scroll_offset.y) + event.y - self._head
        self._move(index)
        step = self.selected_step
        offset = self._tree.fold_offset(step) if step is not None else None
        if offset is None or self._tree.index.get(step or "") != index:
            return
        x = int(self.scroll_offset.x) + event.x
        start = 1 + self._layout[0][1] + 2 + offset  # the status cell, then the step's
        if start <= x < start + 2:
            self.action_fold()

    def on_mount(self) -> None:
        """The scroll bar moves at almost every key of a long table: see scroll_bar."""
        keep_bar_lines(self.vertical_scrollbar)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """As ScrollView's, but the scroll bar is drawn again only when its thumb moves."""
        if self.show_vertical_scrollbar:
            move_thumb(self.vertical_scrollbar, new_value)
        if round(old_value) != round(new_value):
            self.refresh(self.size.region)

    def on_resize(self, event: events.Resize) -> None:
        """Columns are laid out again for the new width."""
        self._relayout()

    # -- drawing -------------------------------------------------------------------------

    def _measure(self, rows: Iterable[StepRow]) -> bool:
        """Widen the measured columns to fit ``rows``' cells; True when one grew."""
        natural, grew = self._natural, False
        for row in rows:
            for name, text in _measured(row):
                width = min(len(text), CAPS[name])
                if width > natural[name]:
                    natural[name], grew = width, True
        return grew

    def _relayout(self, quiet: bool = False) -> None:
        """Choose the columns shown and their widths for the table's width (``quiet``:
        rows came, the split need not know; see :func:`resize_virtual`)."""
        natural = {**self._natural, "step": self._step_natural}
        available = self.size.width or self.full_width()
        if len(self._tree.visible) + self._head > self.size.height:  # a scroll bar shows
            available -= self.styles.scrollbar_size_vertical
        kept = list(PRIORITY)

        def needed(names: list[str]) -> int:
            return sum(natural[n] for n in names if n != "step") + min(
                natural["step"], STEP_MIN * 2) + 2 * len(names)

        while len(kept) > ALWAYS and needed(kept) > available:
            kept.pop()
        others = sum(natural[n] for n in kept if n != "step")
        natural["step"] = max(available - others - 2 * len(kept), min(natural["step"],
                                                                       STEP_MIN))
        self._layout = tuple((i, natural[name]) for i, name in enumerate(COLUMNS) if name in kept)
        width = sum(w for _, w in self._layout) + 2 * len(self._layout)
        resize_virtual(self, Size(width, len(self._tree.visible) + self._head), quiet=quiet)

    def _line(self, texts: tuple[str, ...], style: Style, status_style: Style | None = None,
              ) -> list[Segment]:
        """Two segments: the status cell in its colour, then the rest of the row."""
        (first_index, first_width), *rest = self._layout
        first = Segment(f" {_fit(texts[first_index], first_width)}",
                        style + status_style if status_style else style)
        others = "".join(f"  {_fit(texts[i], width)}" for i, width in rest)
        return [first, Segment(others + "  ", style)]

    def _pen(self) -> _Pen:
        """What drawing any line needs, as things are now."""
        base = self.base_style
        focused = self.has_focus
        offset = self.scroll_offset
        return _Pen(self.size.width, int(offset.x), int(offset.y), self._head, base,
                    base + (CURSOR_STYLE if focused else UNDERLINE_STYLE),
                    dashboard_now(self))

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines in ``crop`` (what every line needs is worked out once for them all)."""
        self._drawing = self._pen()
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = None

    def render_line(self, y: int) -> Strip:
        """The filter line (when filtering), the header, then the rows under the scroll
        position."""
        pen = self._drawing or self._pen()
        width, base, head = pen.width, pen.base, pen.head
        if y < head - 1:
            return Strip([Segment(f" {self.filter_text()}", base + FILTER_STYLE)]
                         ).extend_cell_length(width, base).crop(0, width)
        if y == head - 1:
            return self._strip(COLUMNS, base + HEADER_STYLE, None, pen)
        index = pen.top + y - head
        visible = self._tree.visible
        if not 0 <= index < len(visible):
            return Strip.blank(width, base)
        row = self._view.rows.get(visible[index])
        if row is None:
            return Strip.blank(width, base)
        texts = cells(row, pen.now)
        texts = (texts[0], self._step_text(row.step_id), *texts[2:])
        return self._strip(texts, pen.cursor if index == self._cursor else base,
                           STATUS_STYLE.get(row.word), pen)

    def _strip(self, texts: tuple[str, ...], style: Style, status_style: Style | None,
               pen: _Pen) -> Strip:
        """A row's line as :meth:`_line` lays it out, scrolled across; the same row drawn
        the same way again (a frame later, or scrolled to another line) is not laid out
        again."""
        drawn = (self._layout, pen.left, pen.width)
        if drawn != self._drawn or len(self._strips) > KEPT_STRIPS:
            self._drawn, self._strips = drawn, {}
        key = (texts, style, status_style)
        strip = self._strips.get(key)
        if strip is None:
            left, width = pen.left, pen.width
            strip = self._strips[key] = Strip(self._line(texts, style, status_style)).crop(
                left, left + width).extend_cell_length(width, pen.base)
        return strip
