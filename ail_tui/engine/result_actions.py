"""``on_result``: which branch fires for a finished step, and what its action does."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ail_tui.cancel import CancelToken
from ail_tui.engine import events as ev
from ail_tui.engine.errors import PipelineBreak, RunAborted, StepError
from ail_tui.engine.matchers import Fired, MatchError, ResultAction, evaluate_on_result
from ail_tui.engine.state import Scope
from ail_tui.engine.step_list import StepList
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.models import Step
from ail_tui.pipeline.templates import TemplateSyntaxError, UnresolvedVariable
from ail_tui.turnlog.entry import TurnEntry

if TYPE_CHECKING:
    from ail_tui.engine.executor import Executor


class ResultActions:
    """Evaluates and carries out the ``on_result`` of one run's steps."""

    def __init__(self, run: Executor) -> None:
        self.run = run

    def evaluate(self, step: Step, step_id: str, entry: TurnEntry, scope: Scope,
                 preceding: str | None) -> Fired | None:
        """The branch that fires for ``entry`` (None: none does); a bad matcher aborts."""
        if step.on_result is None:
            return None
        try:
            return evaluate_on_result(step, entry, self.run.state.renderer(scope), preceding,
                                      is_join=step.is_join)
        except (MatchError, UnresolvedVariable, TemplateSyntaxError) as exc:
            detail = str(exc)
            self.run._emit(ev.StepFailed(step_id=step_id, error=detail,
                                         error_type=ErrorType.CONDITION_INVALID))
            raise RunAborted(ErrorType.CONDITION_INVALID, detail, step_id) from None

    def act(self, fired: Fired, step: Step, step_id: str, scope: Scope, token: CancelToken,
            lst: StepList | None) -> None:
        """Carry out ``fired`` (``lst``: the list a break leaves; None at the top level)."""
        action = fired.action
        if action is ResultAction.BREAK:
            if lst is None:
                self.run._break = step_id
                return
            raise PipelineBreak(step_id)
        if action is ResultAction.ABORT_PIPELINE:
            detail = f"Step '{step_id}' on_result fired abort_pipeline"
            raise RunAborted(ErrorType.PIPELINE_ABORTED, detail, step_id)
        if action is ResultAction.PAUSE_FOR_HUMAN:
            self.run.human.pause(step, step_id, token,
                                 fired.message if fired.message is not None
                                 else step.message if not scope.loops else None,
                                 scope.iteration)
        elif action is ResultAction.PIPELINE:
            self._pipeline(fired, step_id, scope, token)

    def _pipeline(self, fired: Fired, step_id: str, scope: Scope, token: CancelToken) -> None:
        run = self.run
        try:
            prompt = run._render(fired.prompt, scope) if fired.prompt is not None else (
                run.state.last_response())
            child, recorded = run.nested.load_child(step_id,
                                                    run._render(fired.target or "", scope))
            entry = run.nested.run_child(f"{step_id}__on_result", child, recorded, prompt,
                                         token)
        except StepError as error:
            raise run._step_failed(step_id, error) from None
        entry.completed_at = time.time()
        run._complete(entry)
