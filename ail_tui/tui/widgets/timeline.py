"""The timeline (Gantt) pane: one lane per step, grouped by concurrent group."""

from __future__ import annotations

import time

from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ail_tui.tui.run_view import RunView, StepRow

STYLE = {
    "queued": "dim",
    "running": "bold cyan",
    "done": "green",
    "failed": "bold red",
    "cancelled": "yellow",
    "skipped": "dim",
    "waiting": "magenta",
    "interrupted": "red",
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
    bar = Text()
    start = 0
    for i in range(1, width + 1):
        if i == width or styles[i] != styles[start]:
            bar.append("".join(cells[start:i]), styles[start])
            start = i
    return bar


def render_timeline(view: RunView, width: int, now: float | None = None) -> Text:
    """The timeline as text: a time axis, then lanes by concurrent group."""
    now = now or time.time()
    rows = [r for r in view.rows.values() if r.launched_at is not None or r.started_at]
    if not rows:
        return Text("No run yet — press r to run. Lanes appear here as steps start.",
                    style="dim")
    origin = view.started_at or min(r.launched_at or r.started_at or now for r in rows)
    end = view.finished_at or now
    span = max(end - origin, 0.001)
    name_width = min(max(len(r.step_id) for r in rows), 24)
    bar_width = max(width - name_width - 22, 10)
    out = Text()
    axis = f"{'':<{name_width}}{'':13}0s{'':>{max(bar_width - 8, 1)}}{span:6.1f}s"
    out.append(axis + "\n", style="dim")
    groups: dict[str | None, list[StepRow]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    for group, members in groups.items():
        out.append(f"{group or 'sequential'}\n", style="bold")
        for row in members:
            name = row.step_id[:name_width]
            out.append(f"{name:<{name_width}} {row.glyph} {row.status:<9} ",
                       STYLE.get(row.status, ""))
            out.append_text(_lane(row, origin, span, bar_width, now))
            start = (row.started_at or row.launched_at or origin) - origin
            out.append(f" {start:5.1f}s\n", "dim")
            if row.cancelled_by:
                out.append(f"{'':<{name_width}}   ✕ cancelled by {row.cancelled_by}\n",
                           STYLE["cancelled"])
    return out


class Timeline(ScrollView):
    """Lanes of queued (·) and running (█) time, marked ✓ ✗ ✕ by outcome.

    Built on the line API: only the lanes on screen are turned into strips.
    """

    DEFAULT_CSS = "Timeline { height: 1fr; width: 100%; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._lines: list[Text] = []
        self._view: RunView | None = None

    def on_resize(self) -> None:
        """Lanes are scaled to the width: redraw when it changes."""
        if self._view is not None:
            self.show(self._view)

    def show(self, view: RunView) -> None:
        """Redraw for ``view`` at the current width."""
        self._view = view
        width = self.scrollable_content_region.width or (self.app.size.width // 2)
        self._lines = render_timeline(view, width).split("\n", allow_blank=True)
        if self._lines and not self._lines[-1].plain:
            self._lines.pop()
        self.virtual_size = Size(width, len(self._lines))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """One line of the timeline, scrolled."""
        index = y + self.scroll_offset.y
        if not 0 <= index < len(self._lines):
            return Strip.blank(self.size.width, self.rich_style)
        segments = list(self._lines[index].render(self.app.console))
        return Strip(segments).crop(self.scroll_offset.x, self.scroll_offset.x + self.size.width)

    def render_text(self) -> str:
        """The whole timeline as plain text (for tests and copying)."""
        return "\n".join(line.plain for line in self._lines)
