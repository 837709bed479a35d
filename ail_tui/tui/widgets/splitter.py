"""The bar between the steps table and the panes: drag it with the mouse to move the split.

One column wide between side-by-side panes, one line high between stacked ones (the
screen's CSS says which). It holds the mouse from press to release and reports where
the pointer went; the screen decides what that means for the layout.
"""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widget import Widget


class Splitter(Widget):
    """A divider to drag; posts :class:`Splitter.Dragged` while dragged."""

    DEFAULT_CSS = """
    Splitter {
        width: 1;
        height: 100%;
        color: $primary-darken-2;
        &:hover, &.-dragging { color: $accent; }
    }
    """

    class Dragged(Message):
        """The divider was dragged to the pointer's place on the screen."""

        def __init__(self, x: int, y: int) -> None:
            super().__init__()
            self.x = x
            self.y = y

    def render(self) -> str:
        """A vertical line when one column wide, else a horizontal one."""
        width, height = self.size
        if width == 1:
            return "\n".join("│" * height)
        return "─" * width

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """Hold the mouse until it is released."""
        event.stop()
        self.capture_mouse()
        self.add_class("-dragging")

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """Report where the pointer is while dragging."""
        if self.has_class("-dragging"):
            event.stop()
            self.post_message(self.Dragged(event.screen_x, event.screen_y))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        """Let the mouse go."""
        event.stop()
        self.release_mouse()

    def on_mouse_release(self) -> None:
        """The drag ended (released here or anywhere else)."""
        self.remove_class("-dragging")
