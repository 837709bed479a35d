"""The output pane: a step's streamed text (or every step's, interleaved), like ``tail -f``.

Lines are wrapped to the pane's width and drawn straight from the run view, only the
ones on screen, so a step printing thousands of lines costs no more than one printing
ten, and new text never re-lays out the screen. The pane follows the end of the text
until the user scrolls back; ``end`` (or scrolling to the bottom) follows again. A search
match is revealed: its line is scrolled into view and marked, the matched text reversed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.strip import Strip

from ail_tui.tui.widgets.cached_style import CachedBaseStyle

HEADER_STYLE = Style(bold=True, reverse=True)
NOTICE_STYLE = Style(color="red", bold=True)
MARKED_STYLE = Style(bold=True, underline=True)
"""The line of the search match shown."""
MATCH_STYLE = Style(reverse=True, bold=True)
"""The searched text, wherever it is on screen."""


@dataclass(frozen=True)
class OutputSource:
    """What the pane shows: numbered lines that only grow at the end, and a title.

    ``key`` names what is shown (a step, or all steps); ``lines`` is the live sequence
    (the oldest lines may be dropped from its front, and a line may hold newlines);
    ``total`` tells how many were ever added, so the pane keeps its place as they drop.
    """

    key: str
    title: str
    lines: Sequence[str]
    total: Callable[[], int]
    notice: str = ""  # shown wrapped under the title (a step's error)

    def version(self) -> tuple[object, ...]:
        """Changes whenever what the pane would show changes."""
        lines = self.lines
        return (self.key, self.title, self.notice, self.total(),
                lines[-1] if lines else None)


class PrefixedLines(Sequence[str]):
    """``(step id, text)`` pairs read as ``"step │ text"`` lines, formatted when drawn."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __len__(self) -> int:
        return len(self._pairs)

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        step, text = self._pairs[index]
        return f"{step:<16} │ {text}"


def _chop(line: str, width: int) -> list[str]:
    if line.isascii():
        if len(line) <= width:
            return [line]
        return [line[i:i + width] for i in range(0, len(line), width)]
    if cell_len(line) <= width:
        return [line]
    return chop_cells(line, width) or [""]


def wrap(line: str, width: int) -> list[str]:
    """``line`` split at its newlines and cut into pieces of at most ``width`` cells."""
    if width <= 0:
        return [line]
    if "\n" not in line:
        return _chop(line, width)
    return [piece for part in line.split("\n") for piece in _chop(part, width)]


def wrap_at(line: str, width: int) -> list[tuple[str, int]]:
    """:func:`wrap`, each piece with where it starts in ``line``."""
    out: list[tuple[str, int]] = []
    start = 0
    for part in (line.split("\n") if width > 0 else [line]):
        offset = start
        for piece in (_chop(part, width) if width > 0 else [part]):
            out.append((piece, offset))
            offset += len(piece)
        start += len(part) + 1
    return out


def find_all(text: str, needle: str) -> list[tuple[int, int]]:
    """Where ``needle`` is in ``text`` (case-insensitive), as (start, end) pairs."""
    if not needle:
        return []
    low, needle = text.lower(), needle.lower()
    spans, at = [], low.find(needle)
    while at >= 0:
        spans.append((at, at + len(needle)))
        at = low.find(needle, at + len(needle))
    return spans


@dataclass(frozen=True)
class Mark:
    """A search match shown: line ``number`` (counted as :attr:`OutputSource.total` counts)
    of the source ``key``, and the text searched for."""

    key: str
    number: int
    needle: str


class OutputView(CachedBaseStyle, can_focus=True):
    """Shows an :class:`OutputSource`, wrapped, following its end or scrolled back."""

    BINDINGS = [
        Binding("up", "scroll_lines(-1)", "Up", show=False, id="output.up"),
        Binding("down", "scroll_lines(1)", "Down", show=False, id="output.down"),
        Binding("pageup", "scroll_page(-1)", "Page up", show=False, id="output.page_up"),
        Binding("pagedown", "scroll_page(1)", "Page down", show=False, id="output.page_down"),
        Binding("home", "scroll_home", "Top", show=False, id="output.top"),
        Binding("end", "follow", "Follow", show=False, id="output.follow"),
    ]

    DEFAULT_CSS = "OutputView { height: 1fr; width: 1fr; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._source: OutputSource | None = None
        self.following = True
        self._top = 0  # absolute number of the first source line shown, when not following
        self._screen: list[str] = []
        self._where: list[tuple[int, int] | None] = []  # each screen line's (line, offset)
        self._mark: Mark | None = None
        self._reveal = False  # scroll the mark into view at the next lay-out
        self._key: tuple[object, ...] | None = None
        self._shown_version: tuple[object, ...] | None = None
        self._notice_lines = 0

    # -- data ----------------------------------------------------------------------------

    def show(self, source: OutputSource | None) -> None:
        """Show ``source`` from its end (a new one) or bring the shown one up to date.

        Nothing is redrawn when nothing changed.
        """
        old = self._source
        if source is None or old is None or source.key != old.key:
            self.following, self._top = True, 0
            if self._mark is not None and (source is None or source.key != self._mark.key):
                self._mark = None
        elif source.version() == self._shown_version:
            self._source = source
            return
        self._source = source
        self._shown_version = source.version() if source else None
        self.refresh()

    def reveal(self, number: int, needle: str) -> None:
        """Scroll line ``number`` of the source shown into view (a third down the pane)
        and mark it, ``needle`` highlighted; it stays marked until another source."""
        if self._source is None:
            return
        self._mark = Mark(self._source.key, number, needle)
        self._reveal = True
        self.refresh()

    @property
    def mark(self) -> Mark | None:
        """The search match marked, if any."""
        return self._mark

    def visible_lines(self) -> list[str]:
        """The text of each line on screen, header first (for tests and copying)."""
        self._lay_out()
        return list(self._screen)

    # -- scrolling -----------------------------------------------------------------------

    @property
    def _body_height(self) -> int:
        return max(self.size.height - 1, 1)

    def _first(self) -> int:
        """The absolute number of the oldest line still held."""
        source = self._source
        return source.total() - len(source.lines) if source else 0

    def _move(self, lines: int) -> None:
        source = self._source
        if source is None:
            return
        first, total = self._first(), source.total()
        if self.following:
            self._top = max(total - self._body_height, first)
        self._top = max(first, min(self._top + lines, total - 1))
        self.following = self._top >= total - self._body_height
        self.refresh()

    def action_scroll_lines(self, lines: int) -> None:
        """Scroll by source lines (negative: back)."""
        self._move(lines)

    def action_scroll_page(self, pages: int) -> None:
        """Scroll by a screenful."""
        self._move(pages * self._body_height)

    def action_scroll_home(self) -> None:
        """Go to the oldest line held."""
        self.following = False
        self._top = self._first()
        self.refresh()

    def action_follow(self) -> None:
        """Follow the end of the text again."""
        self.following = True
        self.refresh()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        """Scroll back three lines."""
        event.stop()
        self._move(-3)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        """Scroll on three lines."""
        event.stop()
        self._move(3)

    # -- drawing -------------------------------------------------------------------------

    def _lay_out(self) -> None:
        """Work out the text of every line on screen (once per change)."""
        source, width, height = self._source, self.size.width, self._body_height
        mark = self._mark
        if self._reveal and source is not None and mark is not None and self.size.height:
            self._reveal = False
            first, total = self._first(), source.total()
            self._top = max(first, min(mark.number - height // 3, total - 1))
            self.following = False
        key = (source.version() if source else None, width, height, self.following,
               self._top, mark)
        if key == self._key:
            return
        self._key = key
        self._where = []
        if source is None:
            self._screen = ["Select a step to see its output."]
            return
        total = source.total()
        lines, first = source.lines, total - len(source.lines)
        notice = wrap(source.notice, width) if source.notice else []
        height = max(height - len(notice), 1)
        body: list[tuple[str, tuple[int, int]]] = []
        if self.following:  # fill from the end backwards
            index = len(lines) - 1
            while index >= 0 and len(body) < height:
                body[:0] = [(piece, (first + index, at))
                            for piece, at in wrap_at(lines[index], width)]
                index -= 1
            body = body[-height:]
            where = "following"
        else:
            index = max(self._top - first, 0)
            while index < len(lines) and len(body) < height:
                body.extend((piece, (first + index, at))
                            for piece, at in wrap_at(lines[index], width))
                index += 1
            body = body[:height]
            where = f"line {max(self._top, first) + 1} of {total} · end: follow"
        count = "1 line" if total == 1 else f"{total} lines"
        found = f" · match: line {mark.number + 1}" if mark is not None else ""
        title = f" {source.title} · {count} · {where}{found} "
        self._screen = [title, *notice, *(text for text, _ in body)]
        self._where = [None] * (1 + len(notice)) + [place for _, place in body]
        self._notice_lines = len(notice)

    def render_line(self, y: int) -> Strip:
        """One screen line: the title bar on top, then the wrapped text."""
        self._lay_out()
        width = self.size.width
        base = self.base_style
        if y >= len(self._screen):
            return Strip.blank(width, base)
        text = self._screen[y]
        style = base
        if y == 0:
            style = base + HEADER_STYLE
        elif y <= self._notice_lines:
            style = base + NOTICE_STYLE
        mark = self._mark
        place = self._where[y] if y < len(self._where) else None
        if mark is None or place is None or self._source is None:
            segments = [Segment(text, style)]
        else:
            segments = self._marked(text, place, mark, base)
        return Strip(segments).crop(0, width).extend_cell_length(width, base)

    def _marked(self, text: str, place: tuple[int, int], mark: Mark,
                base: Style) -> list[Segment]:
        """A piece of source line ``place[0]`` (from ``place[1]``) with the searched text
        highlighted, on the marked line the whole piece marked too."""
        source = self._source
        assert source is not None
        number, offset = place
        line = source.lines[number - self._first()]
        style = base + MARKED_STYLE if number == mark.number else base
        segments, at = [], 0
        for start, end in find_all(line, mark.needle):
            start, end = max(start - offset, 0), min(end - offset, len(text))
            if start >= end or start < at:
                continue
            if start > at:
                segments.append(Segment(text[at:start], style))
            segments.append(Segment(text[start:end], style + MATCH_STYLE))
            at = end
        if at < len(text):
            segments.append(Segment(text[at:], style))
        return segments
