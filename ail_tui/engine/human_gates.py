"""What a run asks the person: pause_for_human, modify_output, on_error gates, tool uses.

Every question goes through one sequence (:meth:`HumanGates.ask`): register it, announce
it, wait for whichever front end answers; a cancelled run ends the wait. A headless run
has no one to ask: each kind of gate says what happens then.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, TypeVar

from ail_tui.cancel import Cancellation, CancelToken
from ail_tui.engine import events as ev
from ail_tui.engine.errors import RunAborted, StepCancelled, StepError
from ail_tui.engine.gates import GateAnswer, Gates
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.models import Step
from ail_tui.runners.permissions import PermissionAsker, PermissionDecision, PermissionRequest
from ail_tui.turnlog.entry import TurnEntry

if TYPE_CHECKING:
    from ail_tui.engine.executor import Executor

Answer = TypeVar("Answer")


class HumanGates:
    """The questions of one run and their answers."""

    def __init__(self, run: Executor) -> None:
        self.run = run
        self.gates: Gates[GateAnswer] = Gates()
        self.permissions: Gates[PermissionDecision] = Gates()
        self._numbers = itertools.count(1)

    @property
    def _interactive(self) -> bool:
        return self.run.options.interactive

    def ask(self, key: str, waiting: Gates[Answer], question: ev.Event,
            token: CancelToken) -> Answer:
        """Register ``key``, announce ``question``, and wait for the answer.

        Raises :class:`StepCancelled` when the run or step is cancelled first.
        """
        waiting.open(key)  # before the announcement, so an early answer is not lost
        self.run._emit(question)
        answer = waiting.wait(key, token)
        if answer is None:
            raise StepCancelled(token.cancellation or Cancellation("user", "cancelled"))
        return answer

    # -- answers (thread-safe, from any front end) -----------------------------------------

    def answer_gate(self, step_id: str, approved: bool = True, text: str | None = None) -> bool:
        """Answer a waiting human gate; False when none waits at ``step_id``."""
        return self.gates.answer(step_id, GateAnswer(approved, text))

    def answer_permission(self, request_id: str, decision: PermissionDecision) -> bool:
        """Decide a waiting tool-use permission request; False when none has that id."""
        return self.permissions.answer(request_id, decision)

    # -- the gates ---------------------------------------------------------------------

    def pause(self, step: Step, step_id: str, token: CancelToken,
              message: str | None = None, iteration: tuple[int, ...] = ()) -> None:
        """pause_for_human: approve to go on, reject to abort (headless: warn, go on).

        A gate the run went past is recorded; an earlier run's passage is reused."""
        message = message if message is not None else step.message
        prior = self.run.prior
        if prior is not None and prior.passed_gate(step_id, iteration):
            self.run._emit(ev.StepCompleted(step_id=step_id, reused_from=prior.run_id,
                                            gate_passed=iteration))
            return
        if not self._interactive:
            self.run._emit(ev.Warning_(step_id=step_id, message=(
                f"pause_for_human at '{step_id}' has no one to ask in a headless run; "
                "continuing")))
            self.run._emit(ev.StepCompleted(step_id=step_id, gate_passed=iteration))
            return
        answer = self.ask(step_id, self.gates,
                          ev.HitlGateReached(step_id=step_id, message=message), token)
        if not answer.approved:
            detail = f"Step '{step_id}' was rejected at the human gate"
            self.run._emit(ev.StepFailed(step_id=step_id, error=detail,
                                         error_type=ErrorType.PIPELINE_ABORTED))
            raise RunAborted(ErrorType.PIPELINE_ABORTED, detail, step_id)
        self.run._emit(ev.StepCompleted(step_id=step_id, gate_passed=iteration))

    def modify(self, step: Step, step_id: str, token: CancelToken, launched: float) -> None:
        """modify_output: the person edits the last response. Headless: as ``on_headless``
        says; without one, the gate is announced and records the last response unedited."""
        reused = self.run.prior.take(step_id) if self.run.prior is not None else None
        if reused is not None:  # edited in an earlier run that this one reuses
            self.run._complete(reused)
            return
        last = self.run.state.last_response()
        if self._interactive:
            answer = self.ask(step_id, self.gates, ev.HitlModifyReached(
                step_id=step_id, message=step.message, last_response=last), token)
            if not answer.approved:
                detail = f"Step '{step_id}' was rejected at the modify_output gate"
                raise RunAborted(ErrorType.PIPELINE_ABORTED, detail, step_id)
            text = answer.text if answer.text is not None else (last or "")
        elif step.on_headless == "skip":
            self.run._emit(ev.StepSkipped(step_id=step_id, reason="headless"))
            return
        elif step.on_headless == "abort":
            raise RunAborted(ErrorType.PIPELINE_ABORTED,
                             f"Step '{step_id}' (modify_output) aborts in a headless run",
                             step_id)
        elif step.on_headless == "use_default":
            text = step.default_value or ""
        else:  # as Rust's event-stream mode: announced, and passed on (here: unedited)
            self.run._emit(ev.HitlModifyReached(step_id=step_id, message=step.message,
                                                last_response=last))
            self.run._emit(ev.Warning_(step_id=step_id, message=(
                f"modify_output at '{step_id}' has no one to ask in a headless run; the "
                "output goes on unedited")))
            text = last or ""
        self.run._complete(TurnEntry(
            step_id=step_id, prompt=step.message or "modify_output", modified=text,
            launched_at=launched, completed_at=time.time()))

    def on_error(self, step_id: str, error: StepError, token: CancelToken) -> bool:
        """on_error: pause_for_human — whether to go on past the failure (headless: yes)."""
        if not self._interactive:
            self.run._emit(ev.Warning_(step_id=step_id, message=(
                f"on_error: pause_for_human has no one to ask in a headless run; continuing "
                f"past the failure of '{step_id}'")))
            return True
        answer = self.ask(step_id, self.gates, ev.HitlGateReached(step_id=step_id, message=(
            f"Step '{step_id}' failed: {error.detail}. Approve to continue, reject to abort.")),
            token)
        return answer.approved

    def permission_asker(self, step_id: str, token: CancelToken) -> PermissionAsker:
        """Asks about the tool uses of step ``step_id`` (a deny once the step is cancelled)."""

        def ask(request: PermissionRequest) -> PermissionDecision:
            request_id = f"{step_id}#{next(self._numbers)}"
            try:
                decision = self.ask(request_id, self.permissions, ev.PermissionRequested(
                    step_id=step_id, request_id=request_id, tool_name=request.tool_name,
                    tool_input=request.input, tool_use_id=request.tool_use_id), token)
            except StepCancelled:
                decision = PermissionDecision(allow=False, reason="The run was cancelled")
            self.run._emit(ev.PermissionAnswered(
                step_id=step_id, request_id=request_id, tool_name=request.tool_name,
                decision=decision.scope, reason=decision.reason or None))
            return decision

        return ask
