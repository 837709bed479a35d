"""``ail-tui run PIPELINE --dry-run``: what a run would do and send, with nothing run.

Every prompt and template is resolved as the engine would resolve it; what only a run
can know (a step's output, the run id, a loop's item) shows as a placeholder such as
``<output of lint>``. No runner is created, no shell command runs (shell commands are
shown, never executed), no turn log is written. Sub-pipeline and loop files are read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ail_tui.engine.errors import StepError
from ail_tui.engine.nested_steps import MAX_PIPELINE_DEPTH
from ail_tui.engine.prompts import effective_model, read_prompt_source
from ail_tui.engine.skills import skill_template
from ail_tui.pipeline.conditions import (
    Always,
    Comparison,
    ConditionSyntaxError,
    Never,
    evaluate,
    parse_condition,
    templates_in,
)
from ail_tui.pipeline.loader import Pipeline
from ail_tui.pipeline.models import ResultBranch, ResultSwitch, Step, StepKind
from ail_tui.pipeline.regex_literal import RegexLiteralError
from ail_tui.pipeline.templates import (
    TemplateSyntaxError,
    UnresolvedVariable,
    VariableKind,
    env_value,
    parse_template,
    parse_variable,
    render,
)
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.base import RunnerError
from ail_tui.runners.registry import RunnerFactory, session_default

RUNS, SKIPPED, AT_RUN_TIME, FAILS = "runs", "skipped", "at run time", "fails"
"""A condition's verdict: decided now (runs / skipped / fails), or only by the run."""


@dataclass
class ConditionPlan:
    """A condition as written, with its templates resolved, and its verdict."""

    text: str
    resolved: str
    decision: str


@dataclass
class LoopPlan:
    """A do_while or for_each: its limits, and what it iterates over when known."""

    max_iterations: int | None = None
    exit_when: ConditionPlan | None = None
    over: str | None = None
    items: int | None = None
    max_items: int | None = None
    item_name: str | None = None


@dataclass
class PlannedStep:
    """One step as a run would take it. ``steps`` are a loop's body or a sub-pipeline's
    steps; ``problems`` say what would fail at run time for certain."""

    id: str
    kind: str
    runner: str | None = None
    model: str | None = None
    prompt: str | None = None
    system_prompt: str | None = None
    append_system_prompt: list[str] = field(default_factory=list)
    command: str | None = None
    pipeline: str | None = None
    message: str | None = None
    condition: ConditionPlan | None = None
    group: str | None = None
    depends_on: list[str] = field(default_factory=list)
    on_error: str | None = None
    on_result: list[str] = field(default_factory=list)
    loop: LoopPlan | None = None
    before: list[PlannedStep] = field(default_factory=list)
    then: list[PlannedStep] = field(default_factory=list)
    steps: list[PlannedStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class DryRun:
    """A whole dry run: the pipeline, the session's runner and prompt, and its steps."""

    pipeline: str
    runner: str
    model: str | None
    prompt: str | None
    max_concurrency: int | None
    steps: list[PlannedStep]

    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` form (every key always present)."""
        return {"valid": True, **asdict(self)}


@dataclass(frozen=True)
class _Loop:
    kind: str  # "do_while" | "for_each"
    limit: int | None  # max_iterations, or the item count when known
    item_name: str | None = None


@dataclass
class _Frame:
    """A step list being planned: its pipeline, id prefix, enclosing loops, the
    invocation prompt its templates see, and the newest step that gives a response."""

    pipeline: Pipeline
    prefix: str = ""
    loops: tuple[_Loop, ...] = ()
    invocation: str | None = None
    invocation_pending: bool = False
    last: str | None = None
    files: tuple[Path, ...] = ()
    depth: int = 0

    def inside(self, step_id: str, loop: _Loop) -> _Frame:
        """The frame of a loop body."""
        return replace(self, prefix=f"{step_id}::", loops=(*self.loops, loop))


class _Rendering:
    """Renders templates, substituting placeholders for what only a run can know."""

    def __init__(self, frame: _Frame, runner: str, cwd: str, env: Mapping[str, str]) -> None:
        self.frame, self.runner, self.cwd, self.env = frame, runner, cwd, env
        self.pending = False
        self.problems: list[str] = []
        self._failed: dict[str, str] = {}
        self._current = ""

    def __call__(self, text: str) -> str:
        """``text`` rendered; a variable that cannot resolve becomes a problem."""
        try:
            template = parse_template(text)
        except TemplateSyntaxError as exc:
            self.problems.append(str(exc))
            return text
        while True:
            try:
                return render(template, self._resolve)
            except UnresolvedVariable as exc:
                self.problems.append(str(exc))
                self._failed[self._current] = f"<unresolved {self._current}>"

    def _later(self, placeholder: str) -> str:
        self.pending = True
        return placeholder

    def _resolve(self, name: str) -> str:
        self._current = name
        if name in self._failed:
            return self._failed[name]
        ref, frame = parse_variable(name), self.frame
        kind = ref.kind
        if kind is VariableKind.INVOCATION_PROMPT:
            if frame.invocation is None:
                raise UnresolvedVariable("No invocation prompt was given: pass --prompt to use "
                                         "{{ step.invocation.prompt }}")
            self.pending = self.pending or frame.invocation_pending
            return frame.invocation
        if kind is VariableKind.LAST_RESPONSE:
            return self._later(f"<output of {frame.last}>" if frame.last else "<last response>")
        if kind is VariableKind.SESSION_TOOL:
            return self.runner
        if kind is VariableKind.SESSION_CWD:
            return self.cwd
        if kind is VariableKind.PIPELINE_RUN_ID:
            return self._later("<run id>")
        if kind is VariableKind.ENV:
            assert ref.env_name is not None
            return env_value(self.env, ref.env_name)
        if kind is VariableKind.DO_WHILE or kind is VariableKind.FOR_EACH:
            return self._loop_value(kind.value, ref.field or "", name)
        if kind is VariableKind.INVOCATION_RESPONSE:
            return self._later("<output of invocation>")
        if kind is VariableKind.STEP and ref.step_id is not None:
            what = ("output" if ref.field in ("response", "result")
                    else ref.field or ".".join(ref.path))
            return self._later(f"<{what} of {ref.step_id}>")
        raise UnresolvedVariable(ref.problem or f"'{{{{ {name} }}}}' is not a recognised "
                                 "template variable")

    def _loop_value(self, kind: str, name: str, variable: str) -> str:
        loop = next((lp for lp in reversed(self.frame.loops) if lp.kind == kind), None)
        if loop is None:
            raise UnresolvedVariable(f"'{{{{ {variable} }}}}' is only available inside a "
                                     f"{kind} loop")
        if name in ("max_iterations", "total") and loop.limit is not None:
            return str(loop.limit)
        if name in ("iteration", "index", "total", "item") or name == loop.item_name:
            return self._later(f"<{kind}.{name}>")
        raise UnresolvedVariable(f"'{{{{ {variable} }}}}' is not a {kind} variable")


def _matcher_text(branch: ResultBranch | ResultSwitch) -> str:
    if isinstance(branch, ResultSwitch) and "field" in branch.matchers():
        return f"{branch.field} == {json.dumps(branch.equals)}"
    written = branch.written_matchers()
    if not written:
        return "?"
    key = written[0]
    value = getattr(branch, key)
    return key if key in ("always", "is_empty") else f"{key} {value}"


def summarise_on_result(step: Step) -> list[str]:
    """``on_result`` as lines ``matcher → action``, in the order they are tried."""
    on_result = step.on_result
    if on_result is None:
        return []
    if isinstance(on_result, list):
        return [f"{_matcher_text(b)} → {b.action}" for b in on_result]
    out = []
    for arm, label in ((on_result.if_true, "→"), (on_result.if_false, "else →")):
        if arm is not None:
            out.append(f"{_matcher_text(on_result)} {label} {arm.action}")
    return out


def _on_error(step: Step) -> str | None:
    if step.is_join:
        return step.on_error or "fail_fast"
    if step.on_error == "retry":
        return f"retry (max_retries {step.max_retries})"
    return step.on_error


_RESPONDS = (StepKind.PROMPT, StepKind.SKILL, StepKind.PIPELINE, StepKind.DO_WHILE,
             StepKind.FOR_EACH)


class _Planner:
    """Walks a pipeline as the executor would, building :class:`PlannedStep` values."""

    def __init__(self, cwd: str, env: Mapping[str, str], runner: str,
                 model: str | None) -> None:
        self.cwd, self.env, self.session_runner, self.cli_model = cwd, env, runner, model
        self._groups = 0

    def rendering(self, frame: _Frame, runner: str | None = None) -> _Rendering:
        return _Rendering(frame, runner or self.session_runner, self.cwd, self.env)

    def plan_list(self, steps: list[Step], frame: _Frame) -> list[PlannedStep]:
        """A step list in order; consecutive async steps share a concurrent group."""
        parallel = any(s.async_ for s in steps) and not frame.loops
        group: str | None = None
        planned: list[PlannedStep] = []
        for index, step in enumerate(steps):
            step_id = frame.prefix + (step.id or f"step{index}")
            plan = PlannedStep(step_id, _kind_name(step))
            plan.condition = self._condition(step, frame, plan)
            skipped = plan.condition is not None and plan.condition.decision == SKIPPED
            if step.async_ and parallel:
                if group is None:
                    self._groups += 1
                    group = f"g{self._groups}"
                plan.group = group
            elif not skipped:
                group = None
            plan.depends_on = [frame.prefix + d for d in step.depends_on or ()]
            plan.on_error = _on_error(step)
            plan.on_result = summarise_on_result(step)
            plan.before = self._chain(step, step_id, "before", frame)
            self._body(step, step_id, frame, plan)
            plan.then = self._chain(step, step_id, "then", frame)
            if not skipped and plan.group is None and (step.kind in _RESPONDS or step.is_join
                                                       or plan.then):
                frame.last = plan.then[-1].id if plan.then else step_id
            planned.append(plan)
        return planned

    def _condition(self, step: Step, frame: _Frame, plan: PlannedStep) -> ConditionPlan | None:
        if step.disabled:
            return ConditionPlan("disabled: true", "disabled: true", SKIPPED)
        if step.condition is None:
            return None
        return self.condition(step.condition, frame, plan.problems)

    def condition(self, text: str, frame: _Frame, problems: list[str]) -> ConditionPlan:
        """A condition's resolved text and verdict (``at run time`` when it reads what
        only the run can know)."""
        try:
            condition = parse_condition(text)
        except ConditionSyntaxError as exc:
            problems.append(str(exc))
            return ConditionPlan(text, text, FAILS)
        if isinstance(condition, Always | Never):
            return ConditionPlan(text, text, RUNS if isinstance(condition, Always) else SKIPPED)
        rendering = self.rendering(frame)
        sides = {side: rendering(side) for side in templates_in(condition)}
        resolved = _comparison_text(condition, sides)
        problems += rendering.problems
        if rendering.problems:
            return ConditionPlan(text, resolved, FAILS)
        if rendering.pending:
            return ConditionPlan(text, resolved, AT_RUN_TIME)
        try:
            holds = evaluate(condition, sides.__getitem__)
        except RegexLiteralError as exc:
            problems.append(str(exc))
            return ConditionPlan(text, resolved, FAILS)
        return ConditionPlan(text, resolved, RUNS if holds else SKIPPED)

    def _chain(self, step: Step, step_id: str, which: str,
               frame: _Frame) -> list[PlannedStep]:
        out = []
        for number, item in enumerate(getattr(step, which) or ()):
            chain_step = Step.model_validate({"prompt": item}) if isinstance(item, str) else item
            chain_id = f"{step_id}::{which}::{number}"
            plan = PlannedStep(chain_id, _kind_name(chain_step))
            plan.before = self._chain(chain_step, chain_id, "before", frame)
            self._body(chain_step, chain_id, frame, plan)
            plan.then = self._chain(chain_step, chain_id, "then", frame)
            if chain_step.kind in _RESPONDS:
                frame.last = plan.then[-1].id if plan.then else chain_id
            out.append(plan)
        return out

    def _body(self, step: Step, step_id: str, frame: _Frame, plan: PlannedStep) -> None:
        kind = step.kind
        if kind in (StepKind.PROMPT, StepKind.SKILL):
            self._prompt(step, step_id, frame, plan)
        elif kind is StepKind.CONTEXT:
            assert step.context is not None
            plan.command = step.context.shell
            if step.context.shell is None:
                plan.problems.append("context.spec is not supported by ail-tui")
        elif kind is StepKind.PIPELINE:
            self._sub_pipeline(step, step_id, frame, plan)
        elif kind is StepKind.DO_WHILE:
            self._do_while(step, step_id, frame, plan)
        elif kind is StepKind.FOR_EACH:
            self._for_each(step, step_id, frame, plan)
        elif step.action in ("pause_for_human", "modify_output"):
            plan.message = step.message
            if step.on_headless:
                plan.notes.append(f"headless: {step.on_headless}")
        elif step.action == "reload_self":
            plan.problems.append("reload_self is not supported by ail-tui")

    def _prompt(self, step: Step, step_id: str, frame: _Frame, plan: PlannedStep) -> None:
        runner = step.runner or self.session_runner
        plan.runner = runner
        plan.model = effective_model(frame.pipeline.defaults, step, self.cli_model)
        try:
            RunnerFactory.check(runner)
        except RunnerError as exc:
            plan.problems.append(exc.detail)
        rendering = self.rendering(frame, runner)
        if step.kind is StepKind.SKILL:
            template = skill_template(step.skill or "")
            if template is None:
                plan.problems.append(f"unknown skill '{step.skill}'")
        else:
            template = self._read(step.prompt or "", frame, step_id, "prompt", plan)
        if template is not None:
            plan.prompt = rendering(template)
        if step.system_prompt is not None:
            system = self._read(step.system_prompt, frame, step_id, "system_prompt", plan)
            if system is not None:
                plan.system_prompt = rendering(system)
        plan.append_system_prompt = [self._appended(entry, rendering)
                                     for entry in step.append_system_prompt or ()]
        if step.resume:
            plan.notes.append("resumes the newest runner session")
        plan.problems += rendering.problems

    def _read(self, text: str, frame: _Frame, step_id: str, what: str,
              plan: PlannedStep) -> str | None:
        try:
            return read_prompt_source(text, frame.pipeline.directory, step_id, what)
        except StepError as exc:
            plan.problems.append(exc.detail)
            return None

    def _appended(self, entry: Any, rendering: _Rendering) -> str:
        if isinstance(entry, str):
            return rendering(entry)
        if entry.text is not None:
            return rendering(entry.text)
        if entry.file is not None:
            path = Path(os.path.expanduser(rendering(entry.file)))
            try:
                return rendering(path.read_text(encoding="utf-8"))
            except OSError as exc:
                rendering.problems.append(f"append_system_prompt file '{entry.file}' could "
                                          f"not be read: {exc.strerror or exc}")
                return f"<file {entry.file}>"
        if entry.shell is not None:
            return f"<stdout of: {rendering(entry.shell)}>"
        rendering.problems.append("append_system_prompt spec: is not supported by ail-tui")
        return f"<spec {entry.spec}>"

    def _sub_pipeline(self, step: Step, step_id: str, frame: _Frame,
                      plan: PlannedStep) -> None:
        name = step.pipeline or ""
        rendering = self.rendering(frame)
        if step.prompt is not None:
            plan.prompt = rendering(step.prompt)
        elif frame.last is not None:
            plan.prompt = rendering("{{ last_response }}")
        else:
            plan.prompt = frame.invocation
            rendering.pending = frame.invocation_pending
        child_frame = _Frame(frame.pipeline, invocation=plan.prompt,
                             invocation_pending=rendering.pending, files=frame.files,
                             depth=frame.depth + 1)
        if child_frame.depth >= MAX_PIPELINE_DEPTH:
            plan.problems.append(f"sub-pipelines nest deeper than {MAX_PIPELINE_DEPTH}")
        elif name in frame.pipeline.pipelines:
            plan.kind, plan.pipeline = "named_pipeline", name
            plan.steps = self.plan_list(frame.pipeline.pipelines[name], child_frame)
        else:
            path_rendering = self.rendering(frame)
            text = path_rendering(name)
            plan.problems += path_rendering.problems
            if path_rendering.pending:
                plan.pipeline = text
                plan.notes.append("the sub-pipeline's path is known only at run time")
            else:
                base = frame.pipeline.directory if text.startswith(("./", "../")) else Path(
                    self.cwd)
                path = Path(os.path.abspath(base / text))
                plan.pipeline = str(path)
                child = None
                if path in frame.files:
                    plan.notes.append("recursive: this pipeline is already shown above")
                else:
                    child = self._load(path, plan)
                if child is not None:
                    child_frame.pipeline = child
                    child_frame.files = (*frame.files, path)
                    plan.steps = self.plan_list(child.steps, child_frame)
        plan.problems += rendering.problems

    def _load(self, path: Path, plan: PlannedStep) -> Pipeline | None:
        """A valid pipeline file, or None (and a problem saying why not)."""
        loaded = check_file(path)
        if loaded.pipeline is None or not loaded.valid:
            plan.problems.append(f"'{path}': {loaded.errors[0].detail}")
            return None
        return loaded.pipeline

    def _loop_body(self, text: str | None, steps: list[Step] | None, frame: _Frame,
                   plan: PlannedStep) -> list[Step]:
        if steps is not None:
            return steps
        path = Path(os.path.expanduser(text or ""))
        if not path.is_absolute():
            path = frame.pipeline.directory / path
        loaded = self._load(path, plan)
        return loaded.steps if loaded is not None else []

    def _do_while(self, step: Step, step_id: str, frame: _Frame, plan: PlannedStep) -> None:
        loop = step.do_while
        assert loop is not None
        body = self._loop_body(loop.pipeline, loop.steps, frame, plan)
        inner = frame.inside(step_id, _Loop("do_while", loop.max_iterations))
        plan.steps = self.plan_list(body, inner)
        exit_when = self.condition(loop.exit_when or "", inner, plan.problems)
        plan.loop = LoopPlan(max_iterations=loop.max_iterations, exit_when=exit_when)

    def _for_each(self, step: Step, step_id: str, frame: _Frame, plan: PlannedStep) -> None:
        loop = step.for_each
        assert loop is not None
        rendering = self.rendering(frame)
        over = rendering(loop.over or "")
        plan.problems += rendering.problems
        count: int | None = None
        if not rendering.pending and not rendering.problems:
            try:
                items = json.loads(over)
            except ValueError:
                items = None
            if not isinstance(items, list):
                plan.problems.append(f"for_each over did not give a JSON array: {over[:200]!r}")
            else:
                count = len(items)
                if loop.max_items is not None and count > loop.max_items:
                    if loop.on_max_items == "abort_pipeline":
                        plan.problems.append(f"{count} items, more than max_items "
                                             f"({loop.max_items})")
                    count = loop.max_items
        plan.loop = LoopPlan(over=over, items=count, max_items=loop.max_items,
                             item_name=loop.as_)
        body = self._loop_body(loop.pipeline, loop.steps, frame, plan)
        inner = frame.inside(step_id, _Loop("for_each", count, loop.as_))
        plan.steps = self.plan_list(body, inner)


def _kind_name(step: Step) -> str:
    kind = step.kind
    if kind is StepKind.CONTEXT:
        return "shell" if step.context is not None and step.context.shell is not None else "spec"
    if kind is StepKind.ACTION:
        return step.action or "action"
    return kind.value if kind is not None else "?"


def _comparison_text(condition: Comparison, sides: dict[str, str]) -> str:
    rhs = condition.rhs if condition.regex is not None else sides[condition.rhs]
    return f"{sides[condition.lhs]} {condition.op.value} {rhs}"


def plan_dry_run(pipeline: Pipeline, *, prompt: str | None = None, runner: str | None = None,
                 model: str | None = None, cwd: str | None = None,
                 env: Mapping[str, str] | None = None) -> DryRun:
    """What a run of ``pipeline`` with these run options would do, nothing run."""
    session = session_default(runner)
    planner = _Planner(cwd or os.getcwd(), os.environ if env is None else env, session, model)
    frame = _Frame(pipeline, invocation=prompt, files=(pipeline.source,))
    steps: list[PlannedStep] = []
    if prompt is not None and not (pipeline.steps and pipeline.steps[0].id == "invocation"):
        host = PlannedStep("invocation", "invocation", runner=session, model=model,
                           prompt=prompt, notes=["the host's invocation step"])
        steps.append(host)
        frame.last = "invocation"
    steps += planner.plan_list(list(pipeline.steps), frame)
    return DryRun(str(pipeline.source), session, model, prompt,
                  pipeline.defaults.max_concurrency or None, steps)
