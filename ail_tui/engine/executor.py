"""The executor: a sequential cursor over the steps, and a scheduler for async branches.

It runs on the caller's thread (:class:`ail_tui.engine.local_run.LocalRun` gives it one
of its own), emits typed events to a sink, and writes the turn log. Control calls
(cancel, cancel one step, pause, resume, answer a gate) are thread-safe and return at once.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

from ail_tui.cancel import Cancellation, CancelToken
from ail_tui.credentials import SECRETS
from ail_tui.engine import events as ev
from ail_tui.engine.branch_steps import BranchSteps, fail_fast_joins
from ail_tui.engine.errors import (
    PipelineBreak,
    RunAborted,
    RunCancelled,
    StepCancelled,
    StepError,
)
from ail_tui.engine.human_gates import HumanGates
from ail_tui.engine.nested_steps import NestedSteps
from ail_tui.engine.result_actions import ResultActions
from ail_tui.engine.run_recorder import RunRecorder
from ail_tui.engine.run_types import EventSink, RunOptions, RunResult, RunStatus
from ail_tui.engine.scheduler import Branch, Scheduler
from ail_tui.engine.state import RunState, Scope
from ail_tui.engine.step_attempts import StepAttempts
from ail_tui.engine.step_backend import LocalSteps
from ail_tui.engine.step_bodies import StepBodies, StepCall
from ail_tui.engine.step_list import StepList, new_group
from ail_tui.engine.turn_journal import TurnJournal
from ail_tui.files import FileReadError
from ail_tui.gc_control import full_collections_deferred
from ail_tui.pipeline.conditions import (
    ConditionSyntaxError,
    evaluate,
    parse_condition,
)
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.fingerprint import pipeline_hash, step_definitions
from ail_tui.pipeline.loader import Pipeline
from ail_tui.pipeline.models import Step
from ail_tui.pipeline.regex_literal import RegexLiteralError
from ail_tui.pipeline.templates import TemplateSyntaxError, UnresolvedVariable
from ail_tui.processes.guard import GUARD
from ail_tui.processes.marks import run_pids, signal_pids
from ail_tui.runners.permissions import PermissionDecision
from ail_tui.runners.registry import session_default
from ail_tui.turnlog.last_pipeline import remember_pipeline
from ail_tui.turnlog.paths import project_hash, runs_dir
from ail_tui.turnlog.run_log import RunLog


def _aborted(result: RunResult, abort: RunAborted) -> None:
    """Record on ``result`` how ``abort`` ended the run."""
    result.status = (RunStatus.ABORTED if abort.error_type == ErrorType.PIPELINE_ABORTED
                     else RunStatus.FAILED)
    result.error_type, result.error, result.step_id = (abort.error_type, abort.detail,
                                                      abort.step_id)


def _terminal(result: RunResult) -> ev.PipelineCompleted | ev.PipelineError:
    """The event that ends a run that ended as ``result`` says."""
    if result.succeeded:
        return ev.PipelineCompleted(outcome=result.status, step_id=result.step_id
                                    if result.status == RunStatus.BREAK else None)
    return ev.PipelineError(error=result.error or "", status=result.status,
                            error_type=result.error_type or ErrorType.PIPELINE_ABORTED)


class Executor:
    """Runs one pipeline; see the module docstring."""

    def __init__(
        self,
        pipeline: Pipeline,
        options: RunOptions | None = None,
        emit: EventSink | None = None,
        *,
        depth: int = 0,
        parent_token: CancelToken | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.options = options or RunOptions()
        SECRETS.add_environment()
        provider = pipeline.defaults.provider
        if provider is not None:
            SECRETS.add(provider.auth_token)
        self.depth = depth
        self.prior = self.options.prior
        resuming = self.prior is not None and self.prior.resume
        self.run_id = (self.prior.run_id if self.prior and resuming
                       else self.options.run_id or str(uuid.uuid4()))
        self.token = CancelToken(parent_token)
        self.state = RunState(self.run_id, self.options.prompt, self.options.cwd)
        self.log_path: Path | None = None
        if self.prior is not None and resuming:
            self.log_path = self.prior.path  # the run goes on in its own log
        elif self.options.write_log:
            base = self.options.log_dir or runs_dir(self.options.cwd)
            self.log_path = base / f"{self.run_id}.jsonl"
        records = self.options.records
        self.journal = TurnJournal(RunLog(self.log_path, sync=self.options.sync_log,
                                          on_failure=self._log_failed,
                                          writer=records(self.log_path)
                                          if records and self.log_path else None),
                                   project_hash(self.options.cwd))
        self.recorder = RunRecorder(self.journal, self.state, emit or (lambda event: None))
        self._emit: EventSink = self.recorder.emit
        self._complete = self.recorder.completed
        self._record_cancel = self.recorder.cancelled
        self._lock = threading.Lock()
        self._schedulers: list[Scheduler] = []
        self._step_tokens: dict[str, CancelToken] = {}
        self._abort: RunAborted | None = None
        self._break: str | None = None
        self._resume = threading.Event()
        self._resume.set()
        self._session_runner = session_default(self.options.runner)
        self.result: RunResult | None = None
        self.branches = BranchSteps(self)
        self.nested = NestedSteps(self)
        self.human = HumanGates(self)
        self.backend = self.options.backend or LocalSteps(self.options.runners)
        self.bodies = StepBodies(self)
        self.attempts = StepAttempts(self)
        self.results = ResultActions(self)

    # -- control (thread-safe, returns at once) --------------------------------------------

    def cancel(self, reason: str = "run cancelled by user", by: str = "user") -> None:
        """Cancel the run: running steps are stopped, queued ones never start."""
        self.token.cancel(Cancellation(by, reason))
        self._resume.set()

    def cancel_step(self, step_id: str, reason: str = "cancelled by user") -> bool:
        """Cancel one running or queued step (a branch, or the current sequential step)."""
        with self._lock:
            token = self._step_tokens.get(step_id)
            schedulers = list(self._schedulers)
        if token is None:
            return False
        token.cancel(Cancellation("user", reason))
        for scheduler in schedulers:
            scheduler.pump()
        return True

    def pause(self) -> None:
        """Start no new step until :meth:`resume` (running steps go on)."""
        if self._resume.is_set():
            self._resume.clear()
            self._emit(ev.RunPaused())

    def resume(self) -> None:
        """Go on after :meth:`pause`."""
        if not self._resume.is_set():
            self._resume.set()
            self._emit(ev.RunResumed())
            with self._lock:
                schedulers = list(self._schedulers)
            for scheduler in schedulers:
                scheduler.pump()

    @property
    def paused(self) -> bool:
        """Whether the run is paused."""
        return not self._resume.is_set()

    def answer_gate(self, step_id: str, approved: bool = True, text: str | None = None) -> bool:
        """Answer a waiting human gate; returns False when none is waiting for that step."""
        return self.human.answer_gate(step_id, approved, text)

    def answer_permission(self, request_id: str, decision: PermissionDecision) -> bool:
        """Decide a waiting tool-use permission request; False when none has that id."""
        return self.human.answer_permission(request_id, decision)

    # -- running -------------------------------------------------------------------------

    def run(self) -> RunResult:
        """Run the pipeline to its end and return how it ended."""
        with full_collections_deferred():
            return self._run()

    def _run(self) -> RunResult:
        pipeline = self.pipeline
        resumed = self.prior is not None and self.prior.resume
        if resumed:  # what the run's earlier process left running goes first (D3)
            signal_pids(run_pids(self.run_id))
        self._emit(ev.RunStarted(pipeline_source=str(pipeline.source), run_id=self.run_id,
                                 total_steps=len(pipeline.steps),
                                 log_path=str(self.log_path) if self.log_path else None,
                                 resumed=resumed or None,
                                 pipeline_hash=self._pipeline_hash() if self.log_path else None))
        self._remember_pipeline()
        defining = self._define_steps()
        scope = Scope(runner_name=self._session_runner)
        main = StepList(list(pipeline.steps), scope)
        result = RunResult(self.run_id, RunStatus.COMPLETED, log_path=self.log_path)
        try:
            self._host_invocation(scope)
            self._run_list(main)
            if self._break is not None:
                result.status, result.step_id = RunStatus.BREAK, self._break
        except PipelineBreak as stop:
            result.status, result.step_id = RunStatus.BREAK, stop.step_id
        except RunAborted as abort:
            _aborted(result, abort)
        except RunCancelled as cancelled:
            result.status = RunStatus.CANCELLED
            result.error_type = ErrorType.RUNNER_CANCELLED
            result.error = cancelled.why.reason
        except StepError as error:
            _aborted(result, RunAborted(error.error_type, error.detail))
        except Exception as exc:  # a bug: the run fails visibly, it never "completes"
            _aborted(result, RunAborted(ErrorType.INTERNAL_ERROR,
                                        f"internal error: {type(exc).__name__}: {exc}"))
        finally:
            if self._abort is not None and result.status != RunStatus.FAILED:
                _aborted(result, self._abort)  # a branch's abort or a log failure wins
            if not result.succeeded:
                self._stop_branches(result)
            GUARD.end_run(self.run_id)  # what escaped its step's group
            if defining is not None:
                defining.join()
            self._finish(result)
        return result

    def _define_steps(self) -> threading.Thread | None:
        """Record what each step is (D2): at once when it is known, else worked out on a
        thread of its own beside the first steps (whose time is mostly the disk's)."""
        if self.log_path is None:
            return None
        if self.prior is not None:
            self._emit(ev.StepDefinitions(step_hashes=self.prior.fingerprints,
                                          files_hash=self.prior.files_hash))
            return None

        def define() -> None:
            try:
                hashes, files = step_definitions(self.pipeline, cwd=self.options.cwd)
            except Exception as exc:  # a resume then compares the pipeline file as a whole
                self._emit(ev.Warning_(message=f"could not record the step definitions "
                                       f"({type(exc).__name__}: {exc})"))
                return
            self._emit(ev.StepDefinitions(step_hashes=hashes, files_hash=files))

        thread = threading.Thread(target=define, daemon=True,
                                  name=f"ail-define-{self.run_id[:8]}")
        thread.start()
        return thread

    def _remember_pipeline(self) -> None:
        """A run logged in its project's own folder (not a sub-pipeline's): discovery
        offers its pipeline first from now on (brief §1)."""
        runs = runs_dir(self.options.cwd)
        if self.depth == 0 and self.log_path is not None and self.log_path.parent == runs:
            remember_pipeline(runs.parent, self.pipeline.source)

    def _pipeline_hash(self) -> str | None:
        """The pipeline file's content hash (None: the file cannot be read now)."""
        try:
            return pipeline_hash(self.pipeline.source)
        except FileReadError:
            return None

    def _finish(self, result: RunResult) -> None:
        result.last_response = self.state.last_response()
        result.last_session_id = self.state.last_session_id()
        if not self.recorder.finish(_terminal(result)):
            if result.status != RunStatus.FAILED:
                _aborted(result, self._log_failure(self.journal.failure or "?"))
            self.recorder.announce(_terminal(result))
        self.result = result

    def _log_failure(self, why: str) -> RunAborted:
        return RunAborted(ErrorType.STORAGE_WRITE_FAILED,
                          f"The turn log could not be written completely ({why}); "
                          "the run was stopped")

    def _log_failed(self, why: str) -> None:
        """The turn log lost a record: the run stops and fails (it must not seem complete)."""
        with self._lock:
            if self._abort is None:
                self._abort = self._log_failure(why)
        self.token.cancel(Cancellation("run", "the turn log could not be written"))

    def _stop_branches(self, result: RunResult) -> None:
        """Cancel whatever is still running after the run ended early, and wait for it."""
        reason = "run cancelled" if result.status == RunStatus.CANCELLED else (
            f"run {result.status}: {result.error}")
        self.token.cancel(Cancellation("run", reason))
        with self._lock:
            schedulers = list(self._schedulers)
        for scheduler in schedulers:
            scheduler.pump()
            scheduler.wait_for([b.step_id for b in scheduler.in_flight()])
        with self._lock:
            self._schedulers.clear()

    # -- the cursor ----------------------------------------------------------------------

    def _checkpoint(self) -> None:
        """Between steps: honour an abort from a branch, cancellation, and pause."""
        if not self._resume.is_set():
            self.recorder.release()  # what finished before the pause is durable and shown
        while True:
            if self._abort is not None:
                raise self._abort
            if self.token.cancelled:
                raise RunCancelled(self.token.cancellation or Cancellation("user", "cancelled"))
            if (self._resume.is_set() or self._resume.wait(0.1)) and (
                    self._abort is None and not self.token.cancelled):
                return

    def _host_invocation(self, scope: Scope) -> None:
        steps = self.pipeline.steps
        prompt = self.options.prompt
        if not self.options.host_invocation or prompt is None:
            return
        if steps and steps[0].id == "invocation":
            return
        self._checkpoint()
        reused = self.prior.take("invocation") if self.prior is not None else None
        if reused is not None:
            self._complete(reused)
            return
        host = Step.model_validate({"id": "invocation", "prompt": prompt})
        token = self._step_token("invocation")
        try:
            self._emit(ev.StepStarted(step_id="invocation", step_index=0,
                                      total_steps=len(steps) + 1, recorded_prompt=prompt))
            entry = self.bodies.invoke_runner(host, "invocation", prompt, scope, token,
                                              model_only=True)
        except StepError as error:
            raise self._step_failed("invocation", error) from None
        except StepCancelled as cancelled:
            self._record_cancel("invocation", cancelled.why)
            raise RunCancelled(cancelled.why) from None
        finally:
            self._drop_token("invocation")
        self._complete(entry)

    def _run_list(self, lst: StepList) -> None:
        parallel = any(s.async_ for s in lst.steps) and not lst.scope.loops
        if parallel and lst.scheduler is None:
            lst.scheduler = Scheduler(self.pipeline.defaults.max_concurrency,
                                      self.branches.start_branch,
                                      self.branches.branch_never_started, lambda: self.paused,
                                      before_wait=self.recorder.release,
                                      fail_fast=fail_fast_joins(lst, self.options.disabled))
            with self._lock:
                self._schedulers.append(lst.scheduler)
        for index, step in enumerate(lst.steps):
            self._checkpoint()
            if self._break is not None:
                break
            self._cursor_step(lst, index, step)
        if lst.scheduler is not None:
            # Every branch ends before the list does; an early exit leaves the scheduler
            # registered so the run's end can cancel and wait for what is still running.
            lst.scheduler.wait_for([b.step_id for b in lst.scheduler.in_flight()],
                                   cancel=self.token)
            self._checkpoint()
            with self._lock:
                self._schedulers.remove(lst.scheduler)

    def _cursor_step(self, lst: StepList, index: int, step: Step) -> None:
        step_id = lst.prefix + (step.id or f"step{index}")
        is_branch = step.async_ and lst.scheduler is not None
        if step.disabled or step_id in self.options.disabled or (
                step.id in self.options.disabled):
            self._skip(lst, step, step_id, "disabled", is_branch)
            return
        if not self._condition_holds(step, step_id, lst.scope):
            self._skip(lst, step, step_id, "condition", is_branch)
            return
        if is_branch:
            assert lst.scheduler is not None
            if lst.group is None:
                lst.group = new_group()
            branch = Branch(step, step_id, index, lst.group,
                            tuple(lst.prefix + d for d in step.depends_on or ()),
                            self._step_token(step_id), len(lst.steps))
            self._emit(ev.StepQueued(step_id=step_id, concurrent_group=branch.group,
                                     depends_on=list(branch.deps)))
            if not self.branches.restored(lst.scheduler, branch):
                lst.scheduler.launch(branch)
            return
        lst.group = None
        if step.depends_on and lst.scheduler is not None:
            if step.is_join:
                self.branches.join(lst, index, step, step_id)
                return
            lst.scheduler.wait_for([lst.prefix + d for d in step.depends_on], cancel=self.token)
            self._checkpoint()
        if step.is_join:
            self.branches.join(lst, index, step, step_id)
            return
        if self.prior is None or not self.bodies.restored(step, step_id, lst.scope):
            self._sequential(lst, index, step, step_id)

    def _skip(self, lst: StepList, step: Step, step_id: str, reason: str, is_branch: bool) -> None:
        self._emit(ev.StepSkipped(step_id=step_id, reason=reason))
        if is_branch and lst.scheduler is not None:
            lst.scheduler.skipped(Branch(step, step_id, 0, lst.group or "", (),
                                         CancelToken()))

    def _condition_holds(self, step: Step, step_id: str, scope: Scope) -> bool:
        if step.condition is None:
            return True
        try:
            return evaluate(parse_condition(step.condition), self.state.renderer(scope))
        except (ConditionSyntaxError, RegexLiteralError, UnresolvedVariable,
                TemplateSyntaxError) as exc:
            detail = f"Step '{step_id}' condition: {exc}"
            self._emit(ev.StepFailed(step_id=step_id, error=detail,
                                     error_type=ErrorType.CONDITION_INVALID))
            raise RunAborted(ErrorType.CONDITION_INVALID, detail, step_id) from None

    # -- sequential steps ----------------------------------------------------------------

    def _sequential(self, lst: StepList, index: int, step: Step, step_id: str) -> None:
        launched = time.time()
        scope = lst.scope
        token = self._step_token(step_id)
        try:
            self._chain(step, step_id, "before", scope, token)
            if step.action == "pause_for_human":
                self.human.pause(step, step_id, token, iteration=scope.iteration)
                return
            if step.action == "modify_output":
                self.human.modify(step, step_id, token, launched)
                return
            if step.action == "reload_self":
                raise RunAborted(ErrorType.RELOAD_FAILED,
                                 f"Step '{step_id}': reload_self is not supported by ail-tui",
                                 step_id)
            preceding = self.state.last_response()
            if not self.attempts.input_ok(step, step_id, preceding):
                return
            entry = self.attempts.try_step(StepCall(step, step_id, index, len(lst.steps), scope,
                                               token))
            if entry is None:
                return
            entry.launched_at = launched
            entry.completed_at = entry.completed_at or time.time()
            self._complete(entry, hold=True)
            fired = self.results.evaluate(step, step_id, entry, scope, preceding)
            self._chain(step, step_id, "then", scope, token)
            if fired is not None:
                self.results.act(fired, step, step_id, scope, token, lst)
        except StepCancelled as cancelled:
            self._record_cancel(step_id, cancelled.why)
            raise RunCancelled(cancelled.why) from None
        finally:
            self._drop_token(step_id)

    def _render(self, text: str, scope: Scope) -> str:
        try:
            return self.state.render(text, scope)
        except (UnresolvedVariable, TemplateSyntaxError) as exc:
            raise StepError(ErrorType.UNRESOLVED_VARIABLE, str(exc)) from None

    # -- chains, gates, actions ----------------------------------------------------------

    def _step_failed(self, step_id: str, error: StepError) -> RunAborted:
        """Announce that ``step_id`` failed for good; the abort that ends the run."""
        self._emit(ev.StepFailed(step_id=step_id, error=error.detail,
                                 error_type=error.error_type))
        return RunAborted(error.error_type, error.detail, step_id)

    def _chain(self, step: Step, step_id: str, which: str, scope: Scope,
               token: CancelToken) -> None:
        """Run ``step``'s ``before`` or ``then`` chain; a chain step's own chains run
        around it (ids ``<parent>::before::0::then::0``, as Rust names them)."""
        chain = getattr(step, which)
        if not chain:
            return
        for number, item in enumerate(chain):
            chain_step = Step.model_validate({"prompt": item}) if isinstance(item, str) else item
            chain_id = f"{step_id}::{which}::{number}"
            self._chain(chain_step, chain_id, "before", scope, token)
            try:
                entry = self.bodies.run_body(
                    StepCall(chain_step, chain_id, number, 0, scope, token))
            except StepError as error:
                raise self._step_failed(chain_id, error) from None
            entry.completed_at = time.time()
            self._complete(entry)
            self._chain(chain_step, chain_id, "then", scope, token)

    # -- bookkeeping ---------------------------------------------------------------------

    def _step_token(self, step_id: str) -> CancelToken:
        token = CancelToken(self.token)
        with self._lock:
            self._step_tokens[step_id] = token
        return token

    def _drop_token(self, step_id: str) -> None:
        with self._lock:
            self._step_tokens.pop(step_id, None)
