"""The base style of a line-API widget, worked out once instead of for every line drawn."""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


class CachedBaseStyle(Widget):
    """A widget whose :attr:`base_style` is kept until its styles change (theme, focus)."""

    _base_style: Style | None = None

    @property
    def base_style(self) -> Style:
        """The widget's rich style (walking its ancestors costs too much to do per line)."""
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def notify_style_update(self) -> None:
        """Styles changed: the cached style is stale."""
        self._base_style = None
        super().notify_style_update()
