"""Searching every text of the run on screen: prompts, responses, errors, thinking, output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp


class RunSearch:
    """The search box, the matches of the last search, and which one is shown."""

    def __init__(self, app: AilApp, box: Input) -> None:
        self.app = app
        self.box = box
        self.box.display = False
        self.matches: list[tuple[str, str, str]] = []
        self.index = -1

    def open(self) -> None:
        """Show the search box."""
        self.box.display = True
        self.box.focus()

    def find(self, text: str) -> None:
        """Search for ``text`` (case-insensitive) and go to the first match."""
        app = self.app
        needle = text.strip().lower()
        self.box.display = False
        app.table.focus()
        if not needle:
            return
        self.matches = [m for m in app.view.searchable() if needle in m[2].lower()]
        self.index = -1
        if not self.matches:
            app.notify(f"No match for '{text.strip()}'.", severity="warning")
            return
        self.next()

    def next(self, step: int = 1) -> None:
        """Go to the next (``step`` -1: previous) match: select its step, show its details."""
        if not self.matches:
            return
        app = self.app
        self.index = (self.index + step) % len(self.matches)
        step_id, field, line = self.matches[self.index]
        app.table.select_step(step_id)
        app.tabs.active = "tab-details"
        app.notify(f"match {self.index + 1}/{len(self.matches)} · {step_id} · "
                   f"{field}: {line[:120]}")
