"""The timeline (Gantt) pane: one lane per step, grouped by concurrent group."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ail_tui.tui.run_view import RunView, StepRow
from ail_tui.tui.widgets.growing import resize_virtual
from ail_tui.tui.widgets.scroll_bar import keep_bar_lines

STYLE = {
    "queued": "dim",
    "running": "bold cyan",
    "done": "green",
    "reused": "dim green",
    "reconciled": "italic green",
    "failed": "bold red",
    "cancelled": "yellow",
    "skipped": "dim",
    "waiting": "magenta",
    "interrupted": "red",
    "not run": "dim italic",
}


def _lane(row: StepRow, origin: float, span: float, width: int, now: float) -> Text:
    def col(moment: float | None) -> int | None:
        if moment is None:
            return None
        return min(width - 1, max(0, int((moment - origin) / span * (width - 1))))

    end_time = row.completed_at if row.completed_at is not None else (
        now if row.status in ("running", "queued", "waiting") else None)
    launched, started, ended = col(row.launched_at), col(row.started_at), col(end_time)
    cells = [" "] * width
    styles = [""] * width
    if launched is not None:
        stop = started if started is not None else (ended if ended is not None else launched)
        for i in range(launched, max(stop, launched)):
            cells[i], styles[i] = "·", "dim"
    if started is not None and ended is not None:
        for i in range(started, max(ended, started + 1)):
            cells[min(i, width - 1)] = "█"
            styles[min(i, width - 1)] = STYLE.get(row.status, "")
    if ended is not None and row.status in ("cancelled", "failed"):
        cells[ended] = "✕" if row.status == "cancelled" else "✗"
        styles[ended] = "bold " + STYLE[row.status]
    elif ended is not None and row.status == "reused":  # taken, not run: no bar of its own
        cells[ended], styles[ended] = "↺", STYLE["reused"]
    bar = Text()
    start = 0
    for i in range(1, width + 1):
        if i == width or styles[i] != styles[start]:
            bar.append("".join(cells[start:i]), styles[start])
            start = i
    return bar


@dataclass(frozen=True)
class _Layout:
    """Where each line of the timeline comes from; lines are drawn only when shown."""

    lines: list[tuple[str, object]]
    origin: float
    span: float
    name_width: int
    bar_width: int


def _layout(view: RunView, width: int, now: float) -> _Layout | None:
    rows = [r for r in view.rows.values() if r.launched_at is not None or r.started_at]
    if not rows:
        return None
    origin = view.started_at or min(r.launched_at or r.started_at or now for r in rows)
    span = max((view.finished_at or now) - origin, 0.001)
    name_width = min(max(len(r.step_id) for r in rows), 24)
    bar_width = max(width - name_width - 24, 10)
    groups: dict[str | None, list[StepRow]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    lines: list[tuple[str, object]] = [("axis", None)]
    for group, members in groups.items():
        lines.append(("group", group or "sequential"))
        for row in members:
            lines.append(("lane", row))
            if row.cancelled_by:
                lines.append(("cancel", row))
    return _Layout(lines, origin, span, name_width, bar_width)


def _draw(layout: _Layout, index: int, now: float) -> Text:
    kind, item = layout.lines[index]
    name_width = layout.name_width
    if kind == "axis":
        return Text(f"{'':<{name_width}}{'':15}0s{'':>{max(layout.bar_width - 8, 1)}}"
                    f"{layout.span:6.1f}s", style="dim")
    if kind == "group":
        return Text(str(item), style="bold")
    assert isinstance(item, StepRow)
    if kind == "cancel":
        return Text(f"{'':<{name_width}}   ✕ cancelled by {item.cancelled_by}",
                    style=STYLE["cancelled"])
    out = Text(f"{item.step_id[:name_width]:<{name_width}} {item.label:<13} ",
               style=STYLE.get(item.word, ""))
    out.append_text(_lane(item, layout.origin, layout.span, layout.bar_width, now))
    start = (item.started_at or item.launched_at or layout.origin) - layout.origin
    out.append(f" +{start:4.1f}s", "dim")  # when it started, from the run's start
    return out


def render_timeline(view: RunView, width: int, now: float | None = None) -> Text:
    """The whole timeline as text: a time axis, then lanes by concurrent group."""
    now = now or time.time()
    layout = _layout(view, width, now)
    if layout is None:
        return Text(EMPTY, style="dim")
    return Text("\n").join(_draw(layout, i, now) for i in range(len(layout.lines)))


EMPTY = "No run yet — press r to run. Lanes appear here as steps start."


class Timeline(ScrollView):
    """Lanes of queued (·) and running (█) time, marked ✗ ✕ ↺ by outcome.

    Built on the line API: only the lanes on screen are drawn.
    """

    DEFAULT_CSS = "Timeline { height: 1fr; width: 100%; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._layout: _Layout | None = None
        self._view: RunView | None = None
        self._now = 0.0

    def on_mount(self) -> None:
        """The scroll bar is drawn again with the lanes: see scroll_bar."""
        keep_bar_lines(self.vertical_scrollbar)

    def on_resize(self) -> None:
        """Lanes are scaled to the width: redraw when it changes."""
        if self._view is not None:
            self.show(self._view)

    def show(self, view: RunView) -> None:
        """Redraw for ``view`` at the current width."""
        self._view = view
        width = self.scrollable_content_region.width or (self.app.size.width // 2)
        self._now = time.time()
        self._layout = _layout(view, width, self._now)
        lines = len(self._layout.lines) if self._layout else 1
        resize_virtual(self, Size(width, lines))
        self.refresh()

    def _text(self, index: int) -> Text | None:
        if self._layout is None:
            return Text(EMPTY, style="dim") if index == 0 else None
        if not 0 <= index < len(self._layout.lines):
            return None
        return _draw(self._layout, index, self._now)

    def render_line(self, y: int) -> Strip:
        """One line of the timeline, scrolled."""
        text = self._text(y + self.scroll_offset.y)
        if text is None:
            return Strip.blank(self.size.width, self.rich_style)
        segments = list(text.render(self.app.console))
        return Strip(segments).crop(self.scroll_offset.x, self.scroll_offset.x + self.size.width)

    def render_text(self) -> str:
        """The whole timeline as plain text (for tests and copying)."""
        count = len(self._layout.lines) if self._layout else 1
        return "\n".join(t.plain for i in range(count) if (t := self._text(i)) is not None)
