"""A step's attempts under its ``on_error`` policy, and the check of its input.

A collaborator of :class:`~ail_tui.engine.executor.Executor`: ``retry`` runs the body
again from scratch (up to ``max_retries`` more times), ``continue`` and an approved
``pause_for_human`` go on past the failure, anything else aborts the run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ail_tui.cancel import Cancellation
from ail_tui.engine import events as ev
from ail_tui.engine.errors import RunAborted, StepCancelled, StepError
from ail_tui.engine.step_bodies import StepCall
from ail_tui.engine.step_list import schema_problem
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.models import Step
from ail_tui.turnlog.entry import TurnEntry

if TYPE_CHECKING:
    from ail_tui.engine.executor import Executor


class StepAttempts:
    """Runs one run's step attempts."""

    def __init__(self, run: Executor) -> None:
        self.run = run

    def input_ok(self, step: Step, step_id: str, preceding: str | None) -> bool:
        """input_schema check on the preceding output; honours on_error: continue."""
        run = self.run
        if step.input_schema is None:
            return True
        problem = schema_problem(preceding, step.input_schema)
        if problem is None:
            return True
        detail = f"Step '{step_id}' input does not match input_schema: {problem}"
        run._emit(ev.StepFailed(step_id=step_id, error=detail,
                                error_type=ErrorType.INPUT_VALIDATION_FAILED))
        if step.on_error == "continue":
            run._emit(ev.StepErrorContinued(step_id=step_id, error=detail,
                                            error_type=ErrorType.INPUT_VALIDATION_FAILED))
            return False
        raise RunAborted(ErrorType.INPUT_VALIDATION_FAILED, detail, step_id)

    def try_step(self, call: StepCall) -> TurnEntry | None:
        """Run the body with on_error: retry / continue / abort / pause_for_human; the
        entry, or None when the step failed and the run goes on past it."""
        run = self.run
        step, step_id, token = call.step, call.step_id, call.token
        mode = step.on_error or "abort_pipeline"
        retries = (step.max_retries or 0) if mode == "retry" else 0
        attempt = 1
        while True:
            try:
                entry = run.bodies.run_body(
                    call if attempt == call.attempt else replace(call, attempt=attempt))
                if step.output_schema is not None and not step.is_join:
                    problem = schema_problem(entry.response, step.output_schema)
                    if problem is not None:
                        raise StepError(ErrorType.OUTPUT_VALIDATION_FAILED,
                                        f"Step '{step_id}' output does not match "
                                        f"output_schema: {problem}")
                return entry
            except StepError as error:
                if token.cancelled:
                    raise StepCancelled(token.cancellation
                                        or Cancellation("user", "cancelled")) from None
                run._emit(ev.StepFailed(step_id=step_id, error=error.detail,
                                        error_type=error.error_type))
                if mode == "retry" and attempt <= retries:
                    run._emit(ev.StepRetrying(step_id=step_id, error=error.detail,
                                              attempt=attempt, max_retries=retries,
                                              error_type=error.error_type))
                    attempt += 1
                    continue
                if mode == "retry":
                    run._emit(ev.StepAborted(step_id=step_id, error=error.detail,
                                             error_type=error.error_type,
                                             retry_attempt=retries + 1, max_retries=retries))
                elif mode == "continue" or (mode == "pause_for_human"
                                            and run.human.on_error(step_id, error, token)):
                    run._emit(ev.StepErrorContinued(step_id=step_id, error=error.detail,
                                                    error_type=error.error_type))
                    return None
                raise RunAborted(error.error_type, error.detail, step_id) from None
