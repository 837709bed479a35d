"""Modal dialogs: human gates, tool permissions, modify_output, the invocation prompt,
leaving a run, help."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from ail_tui.runners.permissions import PermissionDecision

MAX_TOOL_INPUT_CHARS = 4_000


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


def tool_input_text(tool_input: dict[str, Any]) -> Text:
    """A tool's input as ``key: value`` lines (plain text: nothing in it is markup)."""
    lines: list[str] = []
    for key, value in tool_input.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        head, *rest = shown.splitlines() or [""]
        lines.append(f"{key}: {head}")
        lines.extend(f"    {line}" for line in rest)
    text = "\n".join(lines) or "(no input)"
    if len(text) > MAX_TOOL_INPUT_CHARS:
        hidden = len(text) - MAX_TOOL_INPUT_CHARS
        text = f"{text[:MAX_TOOL_INPUT_CHARS]}\n… ({hidden:,} more characters)"
    return Text(text)


class PermissionDialog(ModalScreen[PermissionDecision | None]):
    """A tool use waits for permission: allow once (a), for this step (s), or deny (d)."""

    BINDINGS = [
        Binding("a", "allow(False)", "Allow once", id="permission.allow_once"),
        Binding("s", "allow(True)", "Allow for step", id="permission.allow_step"),
        Binding("d", "deny", "Deny", id="permission.deny"),
        Binding("escape", "later", "Later", id="permission.later"),
    ]

    def __init__(self, step_id: str, tool_name: str, tool_input: dict[str, Any]) -> None:
        super().__init__()
        self.step_id, self.tool_name, self.tool_input = step_id, tool_name, tool_input

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(f"⏸ Permission — step '{self.step_id}' asks to use {self.tool_name}"),
                        id="dialog-title")
            with VerticalScroll(id="permission-input"):
                yield Static(tool_input_text(self.tool_input))
            yield Input(placeholder="Reason, if you deny (the agent is told)", id="reason")
            with Horizontal(id="dialog-buttons"):
                yield Button("Allow once (a)", variant="success", id="once")
                yield Button(Text(f"Allow {self.tool_name} for this step (s)"),
                             variant="primary", id="step")
                yield Button("Deny (d)", variant="error", id="deny")
            yield Static("enter in the reason: deny with it   esc: answer later (g)",
                         classes="hint")

    def on_mount(self) -> None:
        self.query_one("#deny", Button).focus()  # enter on its own never allows

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "deny":
            self.action_deny()
        else:
            self.action_allow(event.button.id == "step")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_deny()

    def action_allow(self, for_step: bool) -> None:
        self.dismiss(PermissionDecision(allow=True, for_step=for_step))

    def action_deny(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        self.dismiss(PermissionDecision(allow=False, reason=reason))

    def action_later(self) -> None:
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


class LeaveDialog(ModalScreen[str | None]):
    """Quitting during a run: leave it running (detach) or cancel it (decisions A6)."""

    BINDINGS = [
        Binding("d", "leave('detach')", "Detach", id="leave.detach"),
        Binding("c", "leave('cancel')", "Cancel run", id="leave.cancel"),
        Binding("escape", "leave(None)", "Stay", id="leave.stay"),
    ]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Run {self.run_id[:8]} is still running", id="dialog-title")
            yield Static("Detach: the run goes on without this dashboard (ail-tui attach "
                         f"{self.run_id[:8]} shows it again). Cancel: stop it now.")
            with Horizontal(id="dialog-buttons"):
                yield Button("Detach (d)", variant="primary", id="detach")
                yield Button("Cancel run (c)", variant="error", id="cancel")
                yield Button("Stay (esc)", id="stay")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "stay" else event.button.id)

    def action_leave(self, choice: str | None) -> None:
        self.dismiss(choice)


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
