"""A line-API widget growing taller without laying the whole screen out again."""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget


def resize_virtual(widget: ScrollView, size: Size, *, quiet: bool = True) -> None:
    """Set ``widget``'s virtual size to ``size``.

    Textual lays the whole screen out again on every change of a virtual size (a frame's
    work, during a storm of events). A widget only growing taller under a vertical
    scroll bar it shows already keeps its place on screen: then (``quiet``) only its
    scroll bar is brought up to date and the widget drawn again; watchers of its
    ``virtual_size`` are not told. (``_scroll_update`` is Textual's own, hence its
    version's pin.)
    """
    old = widget.virtual_size
    if (quiet and size.width == old.width and size.height > old.height
            and widget.show_vertical_scrollbar):
        widget.set_reactive(Widget.virtual_size, size)
        widget._scroll_update(size)
        widget.refresh()
    else:
        widget.virtual_size = size
