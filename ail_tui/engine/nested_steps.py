"""Steps that run other steps: sub-pipelines (file and named), do_while and for_each.

A collaborator of :class:`~ail_tui.engine.executor.Executor`: it uses the run's state,
log, events and step runner.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ail_tui.cancel import Cancellation, CancelToken
from ail_tui.engine import events as ev
from ail_tui.engine.errors import PipelineBreak, RunAborted, StepCancelled, StepError
from ail_tui.engine.prior_run import PriorRun, plan_reuse
from ail_tui.engine.run_types import RunStatus
from ail_tui.engine.state import LoopFrame, Scope
from ail_tui.engine.step_list import StepList
from ail_tui.pipeline.conditions import evaluate, parse_exit_when
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.loader import Pipeline
from ail_tui.pipeline.models import Step
from ail_tui.pipeline.templates import TemplateSyntaxError, UnresolvedVariable
from ail_tui.pipeline.validation import MAX_LOOP_DEPTH
from ail_tui.turnlog.entry import TurnEntry
from ail_tui.turnlog.paths import runs_dir
from ail_tui.turnlog.reader import read_run

if TYPE_CHECKING:
    from ail_tui.engine.executor import Executor

MAX_PIPELINE_DEPTH = 16


class NestedSteps:
    """One run's sub-pipelines and loops."""

    def __init__(self, run: Executor) -> None:
        self.run = run

    def sub_pipeline(self, step: Step, step_id: str, index: int, total: int, scope: Scope,
                     token: CancelToken, group: str | None) -> TurnEntry:
        assert step.pipeline is not None
        if self.run.depth + 1 >= MAX_PIPELINE_DEPTH:
            raise StepError(ErrorType.PIPELINE_ABORTED,
                            f"Step '{step_id}' exceeds the maximum sub-pipeline nesting depth "
                            f"of {MAX_PIPELINE_DEPTH}")
        name = step.pipeline
        child_id = self._child_id(step_id, scope.iteration)
        self.run._emit(ev.StepStarted(
            step_id=step_id, step_index=index, total_steps=total, resolved_prompt=None,
            concurrent_group=group, recorded_prompt=name, iteration=scope.iteration,
            child_run=child_id))
        if name in self.run.pipeline.pipelines:
            child = replace(self.run.pipeline, steps=self.run.pipeline.pipelines[name])
            recorded = f"named:{name}"
        else:
            child, recorded = self.load_child(step_id, self.run._render(name, scope))
        prompt = self.run._render(step.prompt, scope) if step.prompt is not None else (
            self.run.state.last_response() or self.run.options.prompt)
        return self.run_child(step_id, child, recorded, prompt, token, child_id)

    def _child_id(self, step_id: str, iteration: tuple[int, ...]) -> str:
        """The run id of the step's sub-pipeline run: the earlier run's, so that it goes
        on where it stopped, or a new one."""
        prior = self.run.prior
        earlier = prior.child_run(step_id, iteration) if prior and prior.resume else None
        return earlier or str(uuid.uuid4())

    def load_child(self, step_id: str, text: str) -> tuple[Pipeline, str]:
        from ail_tui.pipeline.validation import check_file

        if text.startswith(("./", "../")):
            path = self.run.pipeline.directory / text
        else:
            path = Path(self.run.options.cwd) / text
        path = Path(os.path.abspath(path))
        loaded = check_file(path)
        if loaded.pipeline is None or not loaded.valid:
            first = loaded.errors[0]
            raise StepError(first.error_type, f"Step '{step_id}' sub-pipeline '{text}': "
                            f"{first.detail}")
        return loaded.pipeline, str(path)

    def run_child(self, step_id: str, child: Pipeline, recorded: str, prompt: str | None,
                  token: CancelToken, child_id: str | None = None) -> TurnEntry:
        options = replace(self.run.options, prompt=prompt, host_invocation=False, prior=None,
                          run_id=child_id)
        if child_id is not None:
            options = replace(options, prior=self._earlier_child(child_id, child, prompt))
        executor = type(self.run)(child, options, None, depth=self.run.depth + 1,
                                  parent_token=token)
        result = executor.run()
        if result.status == RunStatus.CANCELLED:
            raise StepCancelled(token.cancellation or Cancellation("user", "cancelled"))
        if not result.succeeded:
            raise StepError(result.error_type or ErrorType.PIPELINE_ABORTED,
                            result.error or "sub-pipeline failed")
        return TurnEntry(step_id=step_id, prompt=recorded, response=result.last_response or "",
                         runner_session_id=result.last_session_id)

    def _earlier_child(self, child_id: str, child: Pipeline,
                       prompt: str | None) -> PriorRun | None:
        """The sub-pipeline run ``child_id`` left by an earlier process, to resume."""
        options = self.run.options
        path = (options.log_dir or runs_dir(options.cwd)) / f"{child_id}.jsonl"
        if self.run.prior is None or not path.is_file():
            return None
        try:
            record = read_run(path, times=False)
        except OSError:
            return None
        return plan_reuse(record, child, None, cwd=options.cwd,
                          resume=True, prompt=prompt)

    def _loop_body(self, step: Step, kind: str, token: CancelToken) -> list[Step]:
        loop = step.do_while if kind == "do_while" else step.for_each
        assert loop is not None
        if loop.steps is not None:
            return loop.steps
        from ail_tui.pipeline.validation import check_file

        text = loop.pipeline or ""
        path = Path(os.path.expanduser(text))
        if not path.is_absolute():
            path = self.run.pipeline.directory / text
        loaded = check_file(path)
        if loaded.pipeline is None or not loaded.valid:
            first = loaded.errors[0]
            raise StepError(first.error_type, first.detail)
        return loaded.pipeline.steps

    def do_while(self, step: Step, step_id: str, index: int, total: int, scope: Scope,
                 token: CancelToken) -> TurnEntry:
        loop = step.do_while
        assert loop is not None and loop.max_iterations is not None
        if len(scope.loops) >= MAX_LOOP_DEPTH:
            raise StepError(ErrorType.LOOP_DEPTH_EXCEEDED,
                            f"Step '{step_id}' nests loops deeper than {MAX_LOOP_DEPTH}")
        prompt = f"do_while(max_iterations={loop.max_iterations})"
        self.run._emit(ev.StepStarted(step_id=step_id, step_index=index, total_steps=total,
                                      recorded_prompt=prompt))
        body = self._loop_body(step, "do_while", token)
        exit_when = parse_exit_when(loop.exit_when or "")
        prefix = f"{step_id}::"
        iterations = 0
        last: str | None = None
        for iteration in range(loop.max_iterations):
            self.run.state.drop_prefix(prefix)
            inner = scope.inside(LoopFrame("do_while", step_id, iteration, loop.max_iterations))
            broke = self._run_loop_list(body, inner, prefix, step_id, "do_while")
            iterations += 1
            last = self._last_inner_response(prefix) or last
            if broke:
                break
            try:
                if evaluate(exit_when, self.run.state.renderer(inner)):
                    break
            except (UnresolvedVariable, TemplateSyntaxError) as exc:
                raise RunAborted(ErrorType.CONDITION_INVALID,
                                 f"Step '{step_id}' exit_when: {exc}", step_id) from None
        else:
            if loop.on_max_iterations != "continue":
                raise StepError(ErrorType.DO_WHILE_EXHAUSTED,
                                f"Step '{step_id}' exhausted do_while.max_iterations "
                                f"({loop.max_iterations}) without exit_when becoming true")
        return TurnEntry(step_id=step_id, prompt=prompt, response=last, index=iterations)

    def for_each(self, step: Step, step_id: str, index: int, total: int, scope: Scope,
                 token: CancelToken) -> TurnEntry:
        loop = step.for_each
        assert loop is not None
        if len(scope.loops) >= MAX_LOOP_DEPTH:
            raise StepError(ErrorType.LOOP_DEPTH_EXCEEDED,
                            f"Step '{step_id}' nests loops deeper than {MAX_LOOP_DEPTH}")
        source = self.run._render(loop.over or "", scope)
        try:
            items = json.loads(source)
        except ValueError:
            items = None
        if not isinstance(items, list):
            raise StepError(ErrorType.FOR_EACH_SOURCE_INVALID,
                            f"Step '{step_id}' for_each over did not give a JSON array: "
                            f"{source[:200]!r}")
        if loop.max_items is not None and len(items) > loop.max_items:
            if loop.on_max_items == "abort_pipeline":
                raise RunAborted(ErrorType.PIPELINE_ABORTED,
                                 f"Step '{step_id}' for_each has {len(items)} items, more than "
                                 f"max_items ({loop.max_items})", step_id)
            items = items[: loop.max_items]
        prompt = f"for_each(items={len(items)})"
        self.run._emit(ev.StepStarted(step_id=step_id, step_index=index, total_steps=total,
                                      recorded_prompt=prompt))
        body = self._loop_body(step, "for_each", token)
        prefix = f"{step_id}::"
        last: str | None = None
        for number, item in enumerate(items, 1):
            self.run.state.drop_prefix(prefix)
            inner = scope.inside(LoopFrame("for_each", step_id, number, len(items), item,
                                           loop.as_))
            broke = self._run_loop_list(body, inner, prefix, step_id, "for_each")
            last = self._last_inner_response(prefix) or last
            if broke:
                break
        return TurnEntry(step_id=step_id, prompt=prompt, response=last)

    def _run_loop_list(self, body: list[Step], scope: Scope, prefix: str, loop_id: str,
                       kind: str) -> bool:
        try:
            self.run._run_list(StepList(body, scope, prefix))
        except PipelineBreak:
            return True
        except RunAborted as abort:
            if abort.error_type == ErrorType.PIPELINE_ABORTED and "on_result" in abort.detail:
                abort.detail += f" inside {kind} loop '{loop_id}'"
            raise
        return False

    def _last_inner_response(self, prefix: str) -> str | None:
        for entry in reversed(self.run.state.entries()):
            if entry.step_id.startswith(prefix) and entry.response is not None:
                return entry.response
        return None
