"""Step bodies: what one attempt of a step does (a prompt, a shell command, a nested run).

:class:`StepCall` carries what every body needs about the attempt; :class:`StepBodies`
runs it and returns the step's turn entry, raising :class:`StepError` or
:class:`StepCancelled`. Every process a body starts carries the run's mark.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ail_tui.cancel import Cancellation, CancelToken
from ail_tui.credentials import SECRETS
from ail_tui.engine import events as ev
from ail_tui.engine.errors import StepCancelled, StepError
from ail_tui.engine.prompts import build_request, read_prompt_source
from ail_tui.engine.scheduler import Branch
from ail_tui.engine.skills import skill_template
from ail_tui.engine.state import Scope
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.models import Step, StepKind
from ail_tui.pipeline.templates import TemplateSyntaxError, UnresolvedVariable
from ail_tui.processes.guard import GUARD
from ail_tui.runners.base import RunnerError
from ail_tui.turnlog.entry import TurnEntry

if TYPE_CHECKING:
    from ail_tui.engine.executor import Executor

DEFAULT_SHELL_TIMEOUT = 120.0
_PLAIN = (StepKind.PROMPT, StepKind.SKILL, StepKind.CONTEXT)


def plain(step: Step) -> bool:
    """A prompt or shell step with nothing chained and no on_result: one whose reused
    result can be restored at once, with nothing to decide or run around it."""
    return not (step.before or step.then) and step.on_result is None and step.kind in _PLAIN


@dataclass(frozen=True)
class StepCall:
    """One attempt of one step: the step, its place in its list, its scope and token."""

    step: Step
    step_id: str
    index: int
    total: int
    scope: Scope
    token: CancelToken
    branch: Branch | None = None
    attempt: int = 1

    @property
    def group(self) -> str | None:
        """The concurrent group of a branch (None for a sequential step)."""
        return self.branch.group if self.branch is not None else None

    def started(self, resolved_prompt: str | None, recorded: str) -> ev.StepStarted:
        """The ``step_started`` event of this attempt (``recorded``: its record's prompt)."""
        branch = self.branch
        return ev.StepStarted(step_id=self.step_id, step_index=self.index,
                              total_steps=self.total, resolved_prompt=resolved_prompt,
                              concurrent_group=self.group, attempt=self.attempt,
                              recorded_prompt=recorded, iteration=self.scope.iteration,
                              launched_at=branch.launched_at if branch else None)


class StepBodies:
    """Runs step bodies for one run."""

    def __init__(self, run: Executor) -> None:
        self.run = run

    def run_body(self, call: StepCall) -> TurnEntry:
        """One attempt of ``call``'s step: an earlier run's result when it may be reused,
        the step's ``reconcile:`` when the earlier run stopped in it, else its body."""
        iteration = call.scope.iteration
        prior = self.run.prior
        if prior is not None and call.attempt == 1:
            reused = prior.take(call.step_id, iteration)
            if reused is not None:
                if call.step.kind in (StepKind.DO_WHILE, StepKind.FOR_EACH):
                    for inner in prior.last_iteration(call.step_id, iteration):
                        self.run.state.append(inner)
                self.show_output(call.step_id, reused)
                return reused
            interrupted = prior.in_flight(call.step_id, iteration)
            if (interrupted is not None and call.step.reconcile is not None
                    and prior.reconcile_in_flight):
                return self._reconcile(call, interrupted)
        with GUARD.step(self.run.run_id):  # every process the step starts carries its mark
            entry = self._body(call)
        entry.iteration = iteration
        return entry

    def restored(self, step: Step, step_id: str, scope: Scope) -> bool:
        """Whether a plain sequential step (nothing chained, no on_result, a prompt or
        a shell command) was restored from the earlier run's result, at once."""
        prior = self.run.prior
        if prior is None or not plain(step):
            return False
        entry = prior.take(step_id, scope.iteration)
        if entry is None:
            return False
        self.show_output(step_id, entry)
        self.run._complete(entry, hold=True)
        return True

    def show_output(self, step_id: str, entry: TurnEntry) -> None:
        """A reused shell step's output, shown again as the lines it wrote."""
        for stream, text in (("stdout", entry.stdout), ("stderr", entry.stderr)):
            for line in (text or "").splitlines():
                self.run._emit(ev.StepOutput(step_id=step_id, stream=stream, text=line))

    def _reconcile_command(self, step: Step, scope: Scope) -> str | None:
        """The step's ``reconcile`` command, rendered (None: it declares none)."""
        if step.reconcile is None or not step.reconcile.shell:
            return None
        return self.run._render(step.reconcile.shell, scope)

    def _reconcile(self, call: StepCall, prompt: str) -> TurnEntry:
        """D3: the step's ``reconcile`` command recovers the result of the attempt the
        earlier run left in flight (exit 0: its stdout), or the step fails."""
        step, step_id = call.step, call.step_id
        assert step.reconcile is not None
        command = self.run._render(step.reconcile.shell or "", call.scope)
        self._announce(call, f"reconcile: {command}", None)
        with GUARD.step(self.run.run_id):
            result = self.run.backend.run_shell(
                command, step_id=step_id, cwd=self.run.options.cwd, cancel=call.token,
                timeout=float(step.timeout_seconds or DEFAULT_SHELL_TIMEOUT),
                env={"AIL_RUN_ID": self.run.run_id, "AIL_STEP_ID": step_id},
                on_line=lambda stream, text: self.run._emit(
                    ev.StepOutput(step_id=step_id, stream=stream, text=text)))
        if result.cancelled:
            raise StepCancelled(call.token.cancellation or Cancellation("user", "cancelled"))
        if result.exit_code != 0 or result.timed_out:
            why = "timed out" if result.timed_out else f"exited with {result.exit_code}"
            tail = result.stderr.strip().splitlines()[-1:] or [""]
            raise StepError(ErrorType.RECONCILE_FAILED,
                            f"Step '{step_id}' reconcile command {why}"
                            + (f": {tail[0]}" if tail[0] else ""))
        recovered = result.stdout.rstrip("\n")
        if step.kind is StepKind.CONTEXT:
            entry = TurnEntry(step_id=step_id, prompt=prompt or command, stdout=result.stdout,
                              stderr="", exit_code=0)
        else:
            entry = TurnEntry(step_id=step_id, prompt=prompt or command, response=recovered)
        entry.reconciled, entry.iteration = True, call.scope.iteration
        return entry

    def _body(self, call: StepCall) -> TurnEntry:
        step, step_id, kind = call.step, call.step_id, call.step.kind
        if kind in (StepKind.PROMPT, StepKind.SKILL):
            if kind is StepKind.SKILL:
                template = skill_template(step.skill or "")
                if template is None:
                    raise StepError(ErrorType.SKILL_UNKNOWN, f"Step '{step_id}': unknown skill "
                                    f"'{step.skill}'")
            else:
                template = read_prompt_source(step.prompt or "", self.run.pipeline.directory,
                                              step_id)
            prompt = self.run._render(template, call.scope)
            self._announce(call, prompt, prompt)
            return self.invoke_runner(step, step_id, prompt, call.scope, call.token)
        if kind is StepKind.CONTEXT:
            assert step.context is not None
            if step.context.shell is None:
                raise StepError(ErrorType.VALIDATION_FAILED,
                                f"Step '{step_id}': context.spec is not supported by ail-tui")
            return self._shell(call, step.context.shell)
        nested = self.run.nested
        if kind is StepKind.PIPELINE:
            return nested.sub_pipeline(step, step_id, call.index, call.total, call.scope,
                                       call.token, call.group)
        if kind is StepKind.DO_WHILE:
            return nested.do_while(step, step_id, call.index, call.total, call.scope,
                                   call.token)
        if kind is StepKind.FOR_EACH:
            return nested.for_each(step, step_id, call.index, call.total, call.scope,
                                   call.token)
        raise StepError(ErrorType.VALIDATION_FAILED,
                        f"Step '{step_id}' has no body that can run here ({step.action})")

    def _announce(self, call: StepCall, recorded: str, resolved_prompt: str | None) -> None:
        """The attempt begins: ``recorded`` is the prompt its turn-log record keeps."""
        self.run._emit(call.started(resolved_prompt, recorded))

    def invoke_runner(self, step: Step, step_id: str, prompt: str, scope: Scope,
                      token: CancelToken, model_only: bool = False) -> TurnEntry:
        """Send ``prompt`` to the step's runner; its answer as a turn entry.

        ``model_only``: the host invocation, which takes only the session's model.
        """
        run = self.run
        runner_name = step.runner or run._session_runner
        defaults = run.pipeline.defaults
        options = run.options
        try:
            options.runners.check(runner_name)  # an unknown runner fails before the request
            request = build_request(
                step, step_id, prompt, defaults=defaults, state=run.state,
                scope=scope.with_runner(runner_name), cancel=token,
                base_dir=run.pipeline.directory, cli_model=options.model,
                headless=not options.interactive, cwd=options.cwd,
            )
            if model_only:
                request = replace(request, model=options.model, system_prompt=None,
                                  append_system_prompts=(), sampling={})
            if options.interactive:
                request = replace(request, permissions=run.human.permission_asker(step_id, token))
            with SECRETS.masked_stream(  # a secret split across deltas is masked too
                lambda event: run._emit(ev.RunnerEvent(step_id=step_id, event=event)),
            ) as emit:
                result = run.backend.run_prompt(runner_name, request, emit, token,
                                                reconcile=self._reconcile_command(step, scope))
        except (UnresolvedVariable, TemplateSyntaxError) as exc:
            raise StepError(ErrorType.UNRESOLVED_VARIABLE, str(exc)) from None
        except RunnerError as error:
            if error.error_type == ErrorType.RUNNER_CANCELLED or token.cancelled:
                raise StepCancelled(token.cancellation
                                    or Cancellation("user", error.detail)) from None
            raise StepError(error.error_type, error.detail) from None
        sampling = request.sampling  # the step's merged sampling ({} for the host's)
        return TurnEntry(
            step_id=step_id, prompt=prompt, response=result.response,
            cost_usd=result.cost_usd, input_tokens=result.input_tokens,
            output_tokens=result.output_tokens, runner_session_id=result.session_id,
            thinking=result.thinking, tool_events=result.tool_events,
            sampling=sampling or None, model=result.model or request.model,
            reconciled=result.reconciled,
        )

    def _shell(self, call: StepCall, command: str) -> TurnEntry:
        step_id, token = call.step_id, call.token
        self._announce(call, command, None)
        timeout = float(call.step.timeout_seconds or DEFAULT_SHELL_TIMEOUT)
        result = self.run.backend.run_shell(
            command, step_id=step_id, cwd=self.run.options.cwd, timeout=timeout, cancel=token,
            reconcile=self._reconcile_command(call.step, call.scope),
            on_line=lambda stream, text: self.run._emit(
                ev.StepOutput(step_id=step_id, stream=stream, text=text)),
        )
        if result.cancelled:
            raise StepCancelled(token.cancellation or Cancellation("user", "cancelled"))
        if result.timed_out:
            raise StepError(ErrorType.RUNNER_INVOCATION_FAILED,
                            f"Step '{step_id}' shell command timed out after {timeout:g} s")
        return TurnEntry(step_id=step_id, prompt=command, stdout=result.stdout,
                         reconciled=result.reconciled,
                         stderr=result.stderr, exit_code=result.exit_code)
