"""Modal dialogs: human gates, modify_output, the invocation prompt, and help."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea


class GateDialog(ModalScreen[bool]):
    """pause_for_human: approve (y) or reject (n)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Approve", id="gate.approve"),
        Binding("n", "answer(False)", "Reject", id="gate.reject"),
        Binding("escape", "dismiss_none", "Later", id="gate.later"),
    ]

    def __init__(self, step_id: str, message: str | None) -> None:
        super().__init__()
        self.step_id, self.message = step_id, message

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"⏸ Human gate — step '{self.step_id}'", id="dialog-title")
            yield Static(self.message or "Continue the run?", id="gate-message")
            with Horizontal(id="dialog-buttons"):
                yield Button("Approve (y)", variant="success", id="approve")
                yield Button("Reject (n)", variant="error", id="reject")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "approve")

    def action_answer(self, approved: bool) -> None:
        self.dismiss(approved)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ModifyDialog(ModalScreen[str | None]):
    """modify_output: edit the text, then save (ctrl+s) or reject (escape)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="modify.save"),
        Binding("escape", "reject", "Reject", id="modify.reject"),
    ]

    def __init__(self, step_id: str, message: str | None, text: str) -> None:
        super().__init__()
        self.step_id, self.message, self.text = step_id, message, text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"✎ Edit the output — step '{self.step_id}'", id="dialog-title")
            if self.message:
                yield Static(self.message)
            yield TextArea(self.text, id="modify-text")
            with Horizontal(id="dialog-buttons"):
                yield Button("Save (ctrl+s)", variant="success", id="save")
                yield Button("Reject (esc)", variant="error", id="reject")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_reject()

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_reject(self) -> None:
        self.dismiss(None)


class PromptDialog(ModalScreen[str | None]):
    """Ask for the invocation prompt before a run that needs one."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, initial: str = "") -> None:
        super().__init__()
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("This pipeline reads {{ step.invocation.prompt }}", id="dialog-title")
            yield Input(self.initial, placeholder="What should the agent do?", id="prompt")
            yield Static("enter: run   esc: cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key binding of the dashboard."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close")]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Label("Keys (ids can be remapped)", id="dialog-title")
            width = max(len(key) for key, _, _ in self.rows)
            text = "\n".join(f"{key:>{width}}  {desc:<30} {ident}"
                             for key, desc, ident in self.rows)
            yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)
