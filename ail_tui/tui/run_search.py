"""Searching every text of the run on screen: prompts, responses, errors, thinking, output.

Going to a match selects its step and reveals the line: a match in the output in the
Output pane, any other in the Details pane, scrolled into view with the match marked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input

from ail_tui.tui.run_view import TextLine

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp


class RunSearch:
    """The search box, the matches of the last search, and which one is shown."""

    def __init__(self, app: AilApp, box: Input) -> None:
        self.app = app
        self.box = box
        self.box.display = False
        self.needle = ""
        self.matches: list[TextLine] = []
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
        self.needle = needle
        self.matches = [m for m in app.view.searchable() if needle in m.line.lower()]
        self.index = -1
        if not self.matches:
            app.notify(f"No match for '{text.strip()}'.", severity="warning")
            return
        self.next()

    def next(self, step: int = 1) -> None:
        """Go to the next (``step`` -1: previous) match: select its step, reveal its line."""
        if not self.matches:
            return
        app = self.app
        self.index = (self.index + step) % len(self.matches)
        match = self.matches[self.index]
        app.table.select_step(match.step_id)
        if match.field == "output":
            app.output_all = False  # the step's own lines, numbered as the match is
            app.tabs.active = "tab-output"
            app.main.show_output()
            app.output_view.reveal(match.number, self.needle)
        else:
            app.details.reveal(match, self.needle)
            app.tabs.active = "tab-details"
            app.main.show_output()
        app.notify(f"match {self.index + 1}/{len(self.matches)} · {match.step_id} · "
                   f"{match.field}: {match.line[:120]}")
