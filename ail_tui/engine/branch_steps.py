"""Async branches and joins (spec §29): a branch's life on its worker, and the join.

A collaborator of :class:`~ail_tui.engine.executor.Executor`: it uses the run's state,
log, events, schedulers and step runner.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ail_tui.cancel import Cancellation
from ail_tui.engine import events as ev
from ail_tui.engine.errors import RunAborted, RunCancelled, StepCancelled
from ail_tui.engine.joins import DepOutcome, JoinError, join_prompt, string_join, structured_join
from ail_tui.engine.scheduler import Branch, BranchState, FailFastJoin, Scheduler
from ail_tui.engine.state import Scope
from ail_tui.engine.step_bodies import StepCall, plain
from ail_tui.engine.step_list import StepList, schema_problem
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.models import Step
from ail_tui.turnlog.entry import TurnEntry

if TYPE_CHECKING:
    from ail_tui.engine.executor import Executor


def _culprit(branches: list[Branch]) -> Branch | None:
    """The dependency that ends a fail_fast join: the first that failed, else the first
    that was cancelled (in depends_on order)."""
    for state in (BranchState.FAILED, BranchState.CANCELLED):
        found = next((b for b in branches if b.state is state), None)
        if found is not None:
            return found
    return None


def fail_fast_joins(lst: StepList, disabled: frozenset[str]) -> list[FailFastJoin]:
    """The fail_fast joins of a list that the cursor reaches whenever it gets that far
    (no condition, not disabled): a failed dependency cancels their other ones at once."""
    return [(lst.prefix + step.id, tuple(lst.prefix + d for d in step.depends_on))
            for step in lst.steps
            if step.is_join and step.id is not None and step.depends_on
            and (step.on_error or "fail_fast") == "fail_fast"
            and step.condition in (None, "always") and not step.disabled
            and step.id not in disabled and lst.prefix + step.id not in disabled]


class BranchSteps:
    """Running one run's branches and joining them."""

    def __init__(self, run: Executor) -> None:
        self.run = run

    def join(self, lst: StepList, index: int, step: Step, step_id: str) -> None:
        launched = time.time()
        deps = [lst.prefix + d for d in step.depends_on or ()]
        scheduler = lst.scheduler
        mode = step.on_error or "fail_fast"
        outcomes: list[DepOutcome] = []
        if scheduler is not None:
            def failed(branches: list[Branch]) -> bool:
                return mode == "fail_fast" and any(
                    b.state in (BranchState.FAILED, BranchState.CANCELLED) for b in branches)

            branches = scheduler.wait_for(deps, stop=failed, cancel=self.run.token)
            self.run._checkpoint()
            culprit = _culprit([scheduler.branches[d] for d in deps if d in scheduler.branches])
            if mode == "fail_fast" and culprit is not None:
                why = Cancellation(culprit.cause, f"join '{step_id}': dependency "
                                   f"'{culprit.step_id}' {culprit.state.value}")
                for other in branches:
                    if not other.finished:
                        other.token.cancel(why)
                scheduler.pump()
                scheduler.wait_for(deps)
                detail = (f"Join dependency '{culprit.step_id}' failed (fail_fast): "
                          f"{culprit.error}")
                self.run._emit(ev.StepFailed(step_id=step_id, error=detail,
                                         error_type=ErrorType.PIPELINE_ABORTED))
                raise RunAborted(ErrorType.PIPELINE_ABORTED, detail, step_id)
        for dep in deps:
            branch = scheduler.branches.get(dep) if scheduler is not None else None
            if branch is not None:
                outcomes.append(branch.outcome())
            else:
                outcomes.append(DepOutcome(dep, entry=self.run.state.find(dep)))
        reused = self._reused_join(step_id, outcomes)
        if reused is not None:
            self._joined(lst, index, step, step_id, reused)
            return
        structured = bool(step.depends_on) and all(
            self._declares_schema(lst, d) for d in step.depends_on or ())
        try:
            response = structured_join(outcomes) if structured else string_join(outcomes)
            if step.output_schema is not None:
                problem = schema_problem(response, step.output_schema)
                if problem is not None:
                    raise JoinError(ErrorType.OUTPUT_VALIDATION_FAILED,
                                    f"Join step '{step_id}' merged output does not match "
                                    f"output_schema: {problem}")
        except JoinError as error:
            raise self.run._step_failed(step_id, error) from None
        done = [o.entry for o in outcomes if o.entry is not None]
        entry = TurnEntry(
            step_id=step_id, prompt=join_prompt([d for d in step.depends_on or ()]),
            response=response,
            launched_at=min((e.launched_at for e in done if e.launched_at), default=launched),
            completed_at=max((e.completed_at for e in done if e.completed_at),
                             default=time.time()),
        )
        self.run._emit(ev.StepStarted(step_id=step_id, step_index=index,
                                      total_steps=len(lst.steps)))
        self._joined(lst, index, step, step_id, entry)

    def _reused_join(self, step_id: str, outcomes: list[DepOutcome]) -> TurnEntry | None:
        """An earlier run's join result, when every dependency's result was reused too."""
        prior = self.run.prior
        if prior is None or not all(o.entry is not None and o.entry.reused_from
                                    for o in outcomes):
            return None
        return prior.take(step_id)

    def _joined(self, lst: StepList, index: int, step: Step, step_id: str,
                entry: TurnEntry) -> None:
        """Record the join's entry, then its on_result."""
        self.run._complete(entry)
        token = self.run._step_token(step_id)
        try:
            fired = self.run.results.evaluate(step, step_id, entry, lst.scope, None)
            if fired is not None:
                self.run.results.act(fired, step, step_id, lst.scope, token, lst)
        except StepCancelled as cancelled:
            self.run._record_cancel(step_id, cancelled.why)
            raise RunCancelled(cancelled.why) from None
        finally:
            self.run._drop_token(step_id)

    def _declares_schema(self, lst: StepList, dep: str) -> bool:
        return any(s.id == dep and s.output_schema is not None for s in lst.steps)

    def restored(self, scheduler: Scheduler, branch: Branch) -> bool:
        """Whether a plain branch was restored from the earlier run's result, at once
        (its dependencies, reused too, are done: nothing waits)."""
        prior = self.run.prior
        if prior is None or not plain(branch.step):
            return False
        entry = prior.take(branch.step_id)
        if entry is None:
            return False
        entry.concurrent_group = branch.group
        entry.launched_at = branch.launched_at
        self.run.bodies.show_output(branch.step_id, entry)
        self.run._complete(entry, group=branch.group)
        branch.entry = entry
        self.run._drop_token(branch.step_id)
        scheduler.restored(branch)
        return True

    def start_branch(self, branch: Branch) -> None:
        self.run.backend.submit(lambda: self._run_branch(branch))

    def _run_branch(self, branch: Branch) -> None:
        scheduler = self._scheduler_of(branch)
        assert scheduler is not None
        scheduler.mark_running(branch)
        step, step_id = branch.step, branch.step_id
        scope = Scope(runner_name=self.run._session_runner)
        state = BranchState.FAILED
        try:
            entry = self.run.attempts.try_step(StepCall(step, step_id, branch.index, branch.total,
                                                scope, branch.token, branch))
            if entry is None:
                entry = TurnEntry(step_id=step_id, prompt="", response="")
            entry.concurrent_group = branch.group
            entry.launched_at = branch.launched_at
            entry.started_at = branch.started_at
            entry.completed_at = time.time()
            branch.completed_at = entry.completed_at
            branch.entry = entry
            self.run._complete(entry, group=branch.group)
            fired = self.run.results.evaluate(step, step_id, entry, scope, None)
            self.run._chain(step, step_id, "then", scope, branch.token)
            if fired is not None:
                self.run.results.act(fired, step, step_id, scope, branch.token, None)
            state = BranchState.DONE
        except StepCancelled as cancelled:
            branch.cancelled_by = cancelled.why.by
            branch.error_type = ErrorType.RUNNER_CANCELLED
            branch.error = f"cancelled by {cancelled.why.by}: {cancelled.why.reason}"
            branch.completed_at = time.time()
            self.run._record_cancel(step_id, cancelled.why, branch.group, branch.launched_at)
            state = BranchState.CANCELLED
        except RunAborted as abort:
            branch.error_type, branch.error = abort.error_type, abort.detail
            branch.completed_at = time.time()
            # Rust writes nothing for a failed branch; the reader needs to know why.
            self.run._emit(ev.StepAborted(step_id=step_id, error=abort.detail,
                                          error_type=abort.error_type))
            if "on_result fired abort_pipeline" in abort.detail:
                self._abort_from_branch(abort)
        except Exception as exc:  # a bug must not hang the run: fail the branch visibly
            branch.error_type = ErrorType.INTERNAL_ERROR
            branch.error = f"internal error in step '{step_id}': {type(exc).__name__}: {exc}"
            self.run._emit(ev.StepFailed(step_id=step_id, error=branch.error,
                                     error_type=branch.error_type))
        finally:
            self.run._drop_token(step_id)
            scheduler.finish(branch, state)

    def _abort_from_branch(self, abort: RunAborted) -> None:
        """P4: abort_pipeline from an async step cancels every in-flight step."""
        with self.run._lock:
            if self.run._abort is None:
                self.run._abort = abort
        self.run.token.cancel(Cancellation("run", f"aborted by step '{abort.step_id}'"))

    def branch_never_started(self, branch: Branch, why: Cancellation) -> None:
        self.run._record_cancel(branch.step_id, why, branch.group, branch.launched_at)
        self.run._drop_token(branch.step_id)

    def _scheduler_of(self, branch: Branch) -> Scheduler | None:
        with self.run._lock:
            return next((s for s in self.run._schedulers
                         if s.branches.get(branch.step_id) is branch), None)
