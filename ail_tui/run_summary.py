"""What a run came to: how it ended, its wall time and critical path, its steps by status,
and its cost and tokens by runner and model (no Textual here).

:func:`summarize` reads any run that looks like the dashboard's per-run state (see
:class:`RunFacts`); :mod:`ail_tui.run_export` writes a summary as Markdown or JSON.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from ail_tui.pipeline.loader import Pipeline

SLACK_SECONDS = 0.002
"""How much later than a step's start a step may be stamped as finished and still count
as having finished before it (turn logs keep milliseconds)."""
NO_RUNNER = "—"
STATUS_ORDER = ("done", "reused", "reconciled", "failed", "cancelled", "interrupted",
                "skipped", "not run", "running", "waiting", "queued", "pending")
"""The order statuses are counted in (others follow, by name)."""
PROBLEMS = frozenset({"failed", "cancelled", "interrupted"})


class StepFacts(Protocol):
    """What a summary reads of one step (the dashboard's ``StepRow`` has it all)."""

    @property
    def step_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def word(self) -> str: ...
    @property
    def depends_on(self) -> tuple[str, ...]: ...
    @property
    def launched_at(self) -> float | None: ...
    @property
    def started_at(self) -> float | None: ...
    @property
    def completed_at(self) -> float | None: ...
    @property
    def attempts(self) -> int: ...
    @property
    def cost_usd(self) -> float | None: ...
    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def error(self) -> str | None: ...
    @property
    def cancelled_by(self) -> str | None: ...
    @property
    def model(self) -> str | None: ...
    @property
    def response(self) -> str | None: ...


class RunFacts(Protocol):
    """What a summary reads of a run (the dashboard's ``RunView`` has it all)."""

    @property
    def run_id(self) -> str | None: ...
    @property
    def state(self) -> str: ...
    @property
    def started_at(self) -> float | None: ...
    @property
    def finished_at(self) -> float | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def error_type(self) -> str | None: ...
    @property
    def rows(self) -> Mapping[str, StepFacts]: ...


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StepSummary(_Frozen):
    """One step: how it ended, when, what it cost and answered."""

    step_id: str
    kind: str
    status: str
    runner: str
    model: str | None = None
    depends_on: tuple[str, ...] = ()
    queued_at: float | None = None
    """When it was launched (seconds since the epoch; None: it never was)."""
    started_at: float | None = None
    """When it started (None: it never did)."""
    finished_at: float | None = None
    elapsed: float | None = None
    attempts: int = 0
    cost_usd: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    error: str | None = None
    cancelled_by: str | None = None
    response: str | None = None


class PathStep(_Frozen):
    """A step of the critical path: when it began (seconds after the run started) and
    how long it took."""

    step_id: str
    offset: float
    duration: float


class RunnerTotals(_Frozen):
    """The steps of one runner and model, and what they cost."""

    runner: str
    model: str | None
    steps: int
    cost_usd: float | None
    """None: no step of theirs reported a cost."""
    input_tokens: int
    output_tokens: int


class RunSummary(_Frozen):
    """A run at its end (or as far as it got)."""

    run_id: str | None
    pipeline: str | None
    status: str
    error: str | None = None
    error_type: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    wall_seconds: float | None = None
    counts: dict[str, int]
    critical_path: tuple[PathStep, ...]
    runners: tuple[RunnerTotals, ...]
    steps: tuple[StepSummary, ...]

    @property
    def critical_seconds(self) -> float:
        """The critical path's steps' time, together."""
        return sum(step.duration for step in self.critical_path)

    @property
    def problems(self) -> list[StepSummary]:
        """The steps that failed, were cancelled or interrupted, in order."""
        return [step for step in self.steps if step.status in PROBLEMS]

    @property
    def cost_usd(self) -> float | None:
        """The run's cost (None: no step reported one)."""
        costs = [r.cost_usd for r in self.runners if r.cost_usd is not None]
        return sum(costs) if costs else None


def summarize(run: RunFacts, *, now: float, runners: Mapping[str, str] | None = None,
              pipeline: str | None = None) -> RunSummary:
    """The summary of ``run`` at ``now``; ``runners`` names the runner of the steps that
    have one (see :func:`step_runners`); ``pipeline`` is the file shown in titles."""
    named = runners or {}
    steps = tuple(_step(row, named.get(row.step_id), now) for row in run.rows.values())
    end = run.finished_at if run.finished_at is not None else now
    wall = max(end - run.started_at, 0.0) if run.started_at is not None else None
    return RunSummary(
        run_id=run.run_id, pipeline=pipeline, status=run.state, error=run.error,
        error_type=run.error_type, started_at=run.started_at, finished_at=run.finished_at,
        wall_seconds=wall, counts=count_statuses(step.status for step in steps),
        critical_path=critical_path(steps, run.started_at), runners=runner_totals(steps),
        steps=steps)


def step_runners(pipeline: Pipeline | None, session_runner: str) -> dict[str, str]:
    """The runner of each prompt or skill step of ``pipeline`` (by step id):
    its ``runner:``, else the session's."""
    return {step.id: (step.runner or session_runner).strip().lower()
            for step in (pipeline.steps if pipeline else [])
            if step.id is not None and (step.prompt is not None or step.skill is not None)}


def count_statuses(statuses: Iterable[str]) -> dict[str, int]:
    """Steps by status, in :data:`STATUS_ORDER`."""
    counts = Counter(statuses)
    rank = {status: index for index, status in enumerate(STATUS_ORDER)}
    return {status: counts[status]
            for status in sorted(counts, key=lambda s: (rank.get(s, len(rank)), s))}


def critical_path(steps: Sequence[StepSummary],
                  run_started: float | None) -> tuple[PathStep, ...]:
    """The chain of steps that made the run last as long as it did.

    From the step that finished last, walk back to the step it waited for: of its
    ``depends_on`` (or, without any, of the steps before it), the one that finished last
    before it started. Steps that never started (cancelled while queued) and steps inside
    others (``parent::child``) are left out.
    """
    order = {step.step_id: index for index, step in enumerate(steps)}
    timed = [step for step in steps if "::" not in step.step_id
             and step.started_at is not None and step.finished_at is not None]
    if not timed:
        return ()

    def lateness(step: StepSummary) -> tuple[float, bool, int]:
        return (step.finished_at or 0.0, step.status != "cancelled", order[step.step_id])

    chain = [max(timed, key=lateness)]
    while True:
        step = chain[-1]
        began = (step.started_at or 0.0) + SLACK_SECONDS
        waited = [other for other in timed if other not in chain
                  and (other.step_id in step.depends_on if step.depends_on
                       else order[other.step_id] < order[step.step_id])
                  and (other.finished_at or 0.0) <= began]
        if not waited:
            break
        chain.append(max(waited, key=lateness))
    origin = run_started if run_started is not None else chain[-1].started_at or 0.0
    return tuple(PathStep(step_id=step.step_id,
                          offset=max((step.started_at or 0.0) - origin, 0.0),
                          duration=step.elapsed or 0.0)
                 for step in reversed(chain))


def runner_totals(steps: Iterable[StepSummary]) -> tuple[RunnerTotals, ...]:
    """Steps, cost and tokens by runner and model, in the order first seen."""
    groups: dict[tuple[str, str | None], list[StepSummary]] = {}
    for step in steps:
        groups.setdefault((step.runner, step.model), []).append(step)
    totals = []
    for (runner, model), members in groups.items():
        costs = [step.cost_usd for step in members if step.cost_usd is not None]
        totals.append(RunnerTotals(
            runner=runner, model=model, steps=len(members),
            cost_usd=sum(costs) if costs else None,
            input_tokens=sum(step.input_tokens for step in members),
            output_tokens=sum(step.output_tokens for step in members)))
    return tuple(totals)


def _step(row: StepFacts, runner: str | None, now: float) -> StepSummary:
    began = row.started_at or row.launched_at
    end = row.completed_at
    elapsed = None if began is None else max((end if end is not None else now) - began, 0.0)
    return StepSummary(
        step_id=row.step_id, kind=row.kind, status=row.word,
        runner=runner or ("shell" if row.kind == "shell" else NO_RUNNER), model=row.model,
        depends_on=row.depends_on, queued_at=row.launched_at, started_at=row.started_at,
        finished_at=end, elapsed=elapsed,
        attempts=row.attempts, cost_usd=row.cost_usd, input_tokens=row.input_tokens,
        output_tokens=row.output_tokens, error=row.error, cancelled_by=row.cancelled_by,
        response=row.response)


def seconds_text(seconds: float | None) -> str:
    """A duration as people read it: ``0.4 s``, ``2 m 05 s``, ``1 h 02 m`` (``—``: none)."""
    if seconds is None:
        return NO_RUNNER
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} m {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} m"


def cost_text(cost: float | None) -> str:
    """A cost in dollars (``—``: none reported)."""
    return NO_RUNNER if cost is None else f"${cost:.4f}"


def problem_text(step: StepSummary) -> str:
    """What went wrong with a failed or cancelled step (its error, or who cancelled it)."""
    if step.error:
        return step.error
    if step.cancelled_by:
        return f"cancelled by {step.cancelled_by}"
    return f"{step.status}, no error recorded"
