"""A vertical scroll bar drawn again only when its look changes.

Textual draws a scroll bar again whenever its position moves. A table of thousands of
rows scrolled a line at a time moves its thumb by less than a cell most of the time: its
position is then set without drawing it (:func:`move_thumb`), and when it is drawn, its
lines are kept by how they look and given again (:class:`KeptBarRender`). They are the
lines Textual's own renderer draws (the same glyphs and styles), made without a Rich
render pass.
"""

from __future__ import annotations

from math import ceil
from typing import ClassVar

from rich.color import Color
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.css.styles import RulesMap
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

KEPT_LOOKS = 64
"""How many looks of bars are kept (all bars of the app together)."""


class KeptBarRender(ScrollBarRender, Visual):
    """A vertical bar's lines, kept by look (see :func:`keep_bar_lines`)."""

    _kept: ClassVar[dict[tuple[object, ...], list[Strip]]] = {}

    def render_strips(self, width: int, height: int | None, style: Style,
                      options: RenderOptions) -> list[Strip]:
        """The bar's lines, one segment each, on the widget's style (as Textual's)."""
        size = height or 0
        bar_style = self.style if isinstance(self.style, RichStyle) else RichStyle.parse(
            str(self.style))
        segments = self.render_bar(size=size, window_size=self.window_size,
                                   virtual_size=self.virtual_size, position=self.position,
                                   thickness=width, vertical=True,
                                   back_color=bar_style.bgcolor or Color.parse("#555555"),
                                   bar_color=bar_style.color or Color.parse("bright_magenta"),
                                   ).segments
        base = style.rich_style
        look = (width, base, *segments)
        strips = self._kept.get(look)
        if strips is None:
            if len(self._kept) >= KEPT_LOOKS:
                self._kept.clear()
            strips = self._kept[look] = [
                Strip([Segment(text, base + segment_style)], width)
                for text, segment_style, _ in segments[:size]]
        return strips

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        """As wide as the bar is thick."""
        return self.thickness

    def get_height(self, rules: RulesMap, width: int) -> int:
        """As tall as the window it scrolls."""
        return self.window_size


def _thumb(bar: ScrollBar, position: float) -> list[Segment]:
    """The cells of ``bar`` at ``position``, as its renderer would draw them."""
    window, virtual = bar.window_size, bar.window_virtual_size
    return bar.renderer.render_bar(size=bar.size.height, virtual_size=ceil(virtual),
                                   window_size=ceil(window if window < virtual else 0),
                                   position=position).segments


def move_thumb(bar: ScrollBar, position: float) -> None:
    """Set ``bar``'s position (as scrolling does); it is drawn again only when its thumb
    moves on screen, not at every line scrolled."""
    position = int(position * 8) / 8  # the bar's own granularity (ScrollBar.validate_position)
    if _thumb(bar, position) == _thumb(bar, bar.position):
        bar.set_reactive(ScrollBar.position, position)
    else:
        bar.position = position


def keep_bar_lines(bar: ScrollBar) -> None:
    """Have the vertical scroll bar ``bar`` drawn by :class:`KeptBarRender`."""
    bar.renderer = KeptBarRender  # type: ignore[misc]  # Textual's documented per-bar way
