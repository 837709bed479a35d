"""What a run asks the person (human gates, tool permissions): one dialog at a time.

A question that arrives while no dialog is open opens one at once; otherwise it waits, the
status bar says so, and it opens when the dialog before it is answered (or with ``g``).
"Later" (escape) closes a dialog and leaves its question waiting. A question answered
elsewhere (another dashboard attached to the run, ``ail-tui answer``) closes its dialog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import ModalScreen

from ail_tui.engine import events as ev
from ail_tui.runners.permissions import PermissionDecision
from ail_tui.tui.run_view import Question
from ail_tui.tui.screens.dialogs import GateDialog, ModifyDialog, PermissionDialog

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp


def question_key(question: Question) -> str:
    """The id a question is answered by: the request id, or a gate's step id."""
    return question.request_id if isinstance(question, ev.PermissionRequested) else (
        question.step_id)


class Questions:
    """Opens the dialogs of the app's run questions and hands the answers to its run."""

    def __init__(self, app: AilApp) -> None:
        self.app = app
        self.showing: str | None = None
        self._dialog: ModalScreen[Any] | None = None

    def settle(self, arrivals: list[Question]) -> None:
        """After a batch of events: close the dialog of a question answered elsewhere
        (another viewer, ``ail-tui answer``), then ring for the batch's new questions
        that still wait."""
        waiting = self.app.view.questions
        dialog = self._dialog
        if self.showing is not None and self.showing not in waiting and (
                dialog is not None and dialog is self.app.screen):
            self._dialog = None  # dismissed once: its callback closes it (_closed)
            dialog.dismiss(None)
        for question in arrivals:
            if question_key(question) in waiting:
                self.arrived(question)

    def arrived(self, question: Question) -> None:
        """A new question: ring, and show it unless another dialog is open."""
        self.app.bell()
        if self.showing is None:
            self.show(question)

    def show_oldest(self) -> None:
        """Open the oldest waiting question (``g``)."""
        questions = self.app.view.questions
        if questions and self.showing is None:
            self.show(next(iter(questions.values())))

    def show(self, question: Question) -> None:
        """Open the dialog that answers ``question``."""
        key = question_key(question)
        self.showing = key
        if isinstance(question, ev.PermissionRequested):
            permission = PermissionDialog(question.step_id, question.tool_name,
                                          question.tool_input)
            self.app.push_screen(permission, lambda decision: self._permission(key, decision))
            self._dialog = permission
        elif isinstance(question, ev.HitlModifyReached):
            modify = ModifyDialog(key, question.message, question.last_response or "")
            self.app.push_screen(modify, lambda text: self._gate(key, text is not None, text))
            self._dialog = modify
        else:
            gate = GateDialog(key, question.message)
            self.app.push_screen(gate, lambda approved: self._gate(key, approved, None))
            self._dialog = gate

    def _closed(self, key: str) -> bool:
        """A dialog closed; whether it was answered here (else: later, or elsewhere)."""
        self.showing, self._dialog = None, None
        if key not in self.app.view.questions:  # answered elsewhere meanwhile
            self.show_oldest()
            return False
        return True

    def _permission(self, key: str, decision: PermissionDecision | None) -> None:
        run = self.app.current_run
        if not self._closed(key) or decision is None or run is None:
            return
        run.answer_permission(key, decision)
        self._answered(key)

    def _gate(self, key: str, approved: bool | None, text: str | None) -> None:
        run = self.app.current_run
        if not self._closed(key) or approved is None or run is None:
            return
        run.answer_gate(key, approved, text)
        self._answered(key)

    def _answered(self, key: str) -> None:
        self.app.view.answered(key)
        self.show_oldest()
