"""Exporting the run on screen: a dialog asks the format and the file, then the summary
is written (see :mod:`ail_tui.run_export`) and the path is told."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from ail_tui.run_export import SUFFIXES, Format, default_path, write_export
from ail_tui.tui.screens.summary import run_summary_of

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp


@dataclass(frozen=True)
class ExportChoice:
    """What the person chose: the format and the file."""

    fmt: Format
    path: Path


def ask_export(app: AilApp) -> None:
    """Ask where to export the run on screen; write it there and say where it went."""
    run_id = app.view.run_id
    if run_id is None:
        app.notify("No run on screen yet: r runs the pipeline.", severity="warning")
        return

    def chosen(choice: ExportChoice | None) -> None:
        if choice is None:
            return
        try:
            written = write_export(run_summary_of(app), choice.fmt, choice.path)
        except OSError as error:
            app.notify(f"Could not export run {run_id[:8]}: {error}", title="export",
                       severity="error", timeout=10)
            return
        app.notify(f"Exported run {run_id[:8]} to {written}", title="export", timeout=10)

    app.push_screen(ExportDialog(run_id), chosen)


class ExportDialog(ModalScreen[ExportChoice | None]):
    """The format (Markdown or JSON) and the file of an export; enter writes it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="export.cancel")]

    def __init__(self, run_id: str, folder: Path | None = None) -> None:
        super().__init__()
        self.run_id, self.folder = run_id, folder or Path()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Export run {self.run_id[:8]}", id="dialog-title")
            with RadioSet(id="export-format"):
                yield RadioButton("Markdown", value=True, id="format-markdown")
                yield RadioButton("JSON", id="format-json")
            yield Input(str(default_path(self.run_id, "markdown", self.folder)),
                        id="export-path")
            yield Static("enter: export   esc: cancel   (a .json or .md name picks the "
                         "format)", classes="hint")
            with Horizontal(id="dialog-buttons"):
                yield Button("Export (enter)", variant="primary", id="export")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @property
    def fmt(self) -> Format:
        """The format chosen."""
        return "json" if self.query_one("#format-json", RadioButton).value else "markdown"

    @on(RadioSet.Changed, "#export-format")
    def _format_chosen(self) -> None:
        """The file name follows the format (when it names one)."""
        field = self.query_one("#export-path", Input)
        path = Path(field.value)
        if path.suffix.lower() in SUFFIXES.values() and path.suffix != SUFFIXES[self.fmt]:
            field.value = str(path.with_suffix(SUFFIXES[self.fmt]))

    @on(Input.Changed, "#export-path")
    def _path_typed(self, event: Input.Changed) -> None:
        """The format follows a file name that names one."""
        suffix = Path(event.value).suffix.lower()
        for fmt, known in SUFFIXES.items():
            if suffix == known and fmt != self.fmt:
                self.query_one(f"#format-{fmt}", RadioButton).value = True

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export")
    def _export(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.notify("Name the file to export to.", severity="warning")
            return
        self.dismiss(ExportChoice(self.fmt, Path(path)))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without exporting."""
        self.dismiss(None)
