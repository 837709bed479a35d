"""What the dashboard shows of a run, folded from the engine's events (no Textual here).

A replayed turn log arrives as the same events (:mod:`ail_tui.engine.recorded_run`), so a
finished run and a live one look alike on screen.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ail_tui.engine import events as ev
from ail_tui.pipeline.loader import Pipeline
from ail_tui.pipeline.models import Step

Question = ev.HitlGateReached | ev.HitlModifyReached | ev.PermissionRequested
"""Something a run asks the person, and waits for."""

MAX_OUTPUT_LINES = 2_000
MAX_NOTES = 50

GLYPH = {
    "pending": "·",
    "queued": "◌",
    "waiting": "⏸",
    "running": "▶",
    "done": "✓",
    "reused": "↺",
    "reconciled": "⇌",
    "failed": "✗",
    "cancelled": "⊘",
    "skipped": "↷",
    "interrupted": "?",
    "retried": "↻",
    "not run": "○",
}
FINISHED = frozenset({"done", "reused", "reconciled", "failed", "cancelled", "skipped",
                      "interrupted"})
"""Statuses of a step that will not change in this run (``reused`` and ``reconciled``
are done: a result taken from an earlier run, or recovered by ``reconcile:``)."""
PERMISSION_WORDS = {"once": "allowed once", "step": "allowed for this step",
                    "deny": "denied"}
ANSWERS = frozenset({"stream_delta", "thinking", "tool_use", "tool_result", "subagent_text",
                     "completed"})
"""Runner events that show the API answered (a pending API retry is over)."""
UNKNOWN_KINDS = frozenset({"step", "inner"})
"""The kind of a row no plan listed, until its events tell what it is (see _kind_told)."""
WHY_NOT_RUN = {"cancelled": "the run was cancelled", "aborted": "the run was aborted",
               "failed": "the run failed", "interrupted": "the run was interrupted",
               "break": "the run stopped at a break"}
"""How a run that ended before a step began is told (``completed``: it completed)."""


def step_kind(step: Step) -> str:
    """A short word for what a step does."""
    if step.is_join:
        return "join"
    if step.context is not None:
        return "shell" if step.context.shell is not None else "spec"
    kind = step.kind
    if kind is None:
        return "?"
    if kind.value == "action":
        return str(step.action)
    return "loop" if kind.value in ("do_while", "for_each") else kind.value


@dataclass
class StepRow:
    """One step as the steps table, timeline and output pane see it."""

    step_id: str
    kind: str = ""
    status: str = "pending"
    group: str | None = None
    depends_on: tuple[str, ...] = ()
    condition: str | None = None
    launched_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    attempts: int = 0
    cost_usd: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    error: str | None = None
    error_type: str | None = None
    cancelled_by: str | None = None
    prompt: str | None = None
    response: str | None = None
    exit_code: int | None = None
    reused_from: str | None = None  # the run whose result was taken instead of running it
    thinking: str | None = None
    model: str | None = None
    tool_events: list[dict[str, object]] = field(default_factory=list)
    api_retry: dict[str, Any] | None = None  # the runner's latest API retry, while waiting
    tool_elapsed: dict[str, float] = field(default_factory=dict)  # by tool id, while running
    notes: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_NOTES))  # ⚠ / · lines
    history: list[str] = field(default_factory=list)  # one line per finished attempt
    output: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_OUTPUT_LINES))
    lines_total: int = 0  # lines ever added to ``output`` (the oldest are dropped)
    not_run: str | None = None
    """Why a step still ``pending`` never began: the run ended first (None: it may yet)."""

    def add_line(self, line: str) -> None:
        """Append a line of output."""
        self.output.append(line)
        self.lines_total += 1

    def add_text(self, text: str) -> None:
        """Append streamed text: it continues the last line until a newline."""
        pieces = text.split("\n")
        if self.output and self.output[-1] != "":
            self.output[-1] += pieces[0]
        else:
            self.add_line(pieces[0])
        for piece in pieces[1:]:
            self.add_line(piece)

    @property
    def word(self) -> str:
        """The status as shown: ``not run`` for a step the run ended before, else the status."""
        return "not run" if self.status == "pending" and self.not_run else self.status

    @property
    def glyph(self) -> str:
        """The status glyph (the status word goes beside it)."""
        return GLYPH.get(self.status, "?")

    @property
    def label(self) -> str:
        """The glyph and word of :attr:`word`, as the table and the panes show the state."""
        word = self.word
        return f"{GLYPH.get(word, '?')} {word}"

    @property
    def counting(self) -> bool:
        """Whether its elapsed time counts up: it is queued, running or waiting."""
        return self.status in ("queued", "running", "waiting") and self.completed_at is None

    def elapsed(self, now: float | None = None) -> float | None:
        """Seconds the step has been running (up to now, when still running)."""
        start = self.started_at or self.launched_at
        if start is None:
            return None
        end = self.completed_at if self.completed_at is not None else (now or time.time())
        return max(end - start, 0.0)


class TextLine(NamedTuple):
    """A line of a step's text: ``field`` is prompt, response, error, thinking or output;
    ``number`` counts from 0 in the field (for output: every line the step ever printed,
    so it stays right as the oldest are dropped)."""

    step_id: str
    field: str
    line: str
    number: int


@dataclass
class RunView:
    """The state of one run (live or replayed), step by step."""

    rows: dict[str, StepRow] = field(default_factory=dict)
    run_id: str | None = None
    log_path: str | None = None
    state: str = "idle"  # idle | running | paused | completed | break | aborted | failed | ...
    resumed: bool = False  # the run went on in its own log after it stopped (D1)
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    error_type: str | None = None
    questions: dict[str, Question] = field(default_factory=dict)
    """Gates (by step id) and tool permission requests (by request id) awaiting an answer."""
    interleaved: deque[tuple[str, str]] = field(
        default_factory=lambda: deque(maxlen=MAX_OUTPUT_LINES))
    interleaved_total: int = 0  # items ever added to ``interleaved``
    _open_line: str | None = None  # the step whose streamed line ends ``interleaved``

    @classmethod
    def planned(cls, pipeline: Pipeline | None) -> RunView:
        """Rows for every step of a pipeline, before it runs."""
        view = cls()
        for step in pipeline.steps if pipeline else []:
            if step.id is None:
                continue
            view.rows[step.id] = StepRow(step.id, step_kind(step),
                                         depends_on=tuple(step.depends_on or ()),
                                         condition=step.condition)
        return view

    @property
    def running(self) -> bool:
        """Whether the run is still going."""
        return self.state in ("running", "paused")

    def counts(self) -> Counter[str]:
        """Steps by status."""
        return Counter(row.status for row in self.rows.values())

    @property
    def total_cost(self) -> float:
        """The run's cost so far."""
        return sum(row.cost_usd or 0.0 for row in self.rows.values())

    def total_tokens(self) -> tuple[int, int]:
        """The run's input and output tokens so far."""
        rows = self.rows.values()
        return (sum(row.input_tokens for row in rows), sum(row.output_tokens for row in rows))

    def row(self, step_id: str) -> StepRow:
        """The row of a step, added at the end when the plan did not list it."""
        row = self.rows.get(step_id)
        if row is None:
            row = StepRow(step_id, "step" if "::" not in step_id else "inner")
            self.rows[step_id] = row
        return row

    def add_rows(self, rows: Iterable[StepRow]) -> None:
        """Rows no event of this run tells (a sub-pipeline's steps, read from its own
        log), replacing any of the same id; the steps table shows each under its parent."""
        for row in rows:
            self.rows[row.step_id] = row

    def apply(self, event: ev.Event) -> str | None:
        """Fold one event in; returns the id of the step it changed, if any."""
        if isinstance(event, ev.RunStarted):
            # A replayed log's resume goes on from its first start (the run is one run).
            again = bool(event.resumed) and self.run_id == event.run_id
            if not (again and self.started_at is not None):
                self.started_at = event.at
            self.run_id, self.log_path, self.state = event.run_id, event.log_path, "running"
            self.resumed = self.resumed or bool(event.resumed)
            self.finished_at = self.error = self.error_type = None
            for row in self.rows.values():  # a resumed run may yet reach them
                row.not_run = None
            return None
        if isinstance(event, ev.RunPaused | ev.RunResumed):
            self.state = "paused" if isinstance(event, ev.RunPaused) else "running"
            return None
        if isinstance(event, ev.PipelineCompleted | ev.PipelineError):
            self.finished_at = event.at
            if isinstance(event, ev.PipelineCompleted):
                self.state = event.outcome
            else:
                self.state, self.error, self.error_type = (event.status, event.error,
                                                           event.error_type)
            self.questions.clear()
            closed = self.state if self.state in ("cancelled", "interrupted") else "failed"
            for row in self.rows.values():
                if row.status in ("queued", "running", "waiting"):
                    row.status = closed
                    row.completed_at = row.completed_at or event.at
                    row.history.append(f"attempt {row.attempts or 1}: {closed}")
                elif row.status == "pending":
                    row.not_run = _why_not_run(self.state)
            return None
        step_id = getattr(event, "step_id", None)
        if not isinstance(step_id, str):
            return None
        row = self.row(step_id)
        self._apply_step(row, event)
        return step_id

    def _apply_step(self, row: StepRow, event: ev.Event) -> None:
        row.not_run = None
        if row.kind in UNKNOWN_KINDS:
            row.kind = _kind_told(row, event) or row.kind
        if not isinstance(event, ev.RunnerEvent | ev.StepOutput):
            row.api_retry = None  # the step started, ended or moved on
        if isinstance(event, _PAST_A_GATE):  # answered here, by another viewer or the CLI
            self.questions.pop(row.step_id, None)
        if isinstance(event, ev.StepQueued):
            row.status, row.group, row.launched_at = "queued", event.concurrent_group, event.at
        elif isinstance(event, ev.StepStarted):
            row.status = "running"
            row.attempts = event.attempt
            row.started_at = event.at
            row.launched_at = row.launched_at or event.at
            row.group = event.concurrent_group or row.group
            row.prompt = event.resolved_prompt or row.prompt
            row.completed_at, row.error = None, None
        elif isinstance(event, ev.StepOutput):
            prefix = "" if event.stream == "stdout" else "[stderr] "
            row.add_line(prefix + event.text)
            self._interleave(row.step_id, prefix + event.text)
        elif isinstance(event, ev.RunnerEvent):
            self._runner_event(row, event.event)
        elif isinstance(event, ev.StepCompleted):
            row.status, row.completed_at = _completed(event), event.at
            row.reused_from = event.reused_from
            row.model = event.model or row.model
            row.launched_at = row.launched_at or event.at
            row.cost_usd = event.cost_usd
            row.input_tokens, row.output_tokens = event.input_tokens, event.output_tokens
            row.response = event.response if event.response is not None else row.response
            row.exit_code = event.exit_code
            row.history.append(f"reused from run {event.reused_from}" if event.reused_from
                               else f"attempt {row.attempts or 1}: {row.status}")
            if event.response and not row.output:
                for line in event.response.splitlines():
                    row.add_line(line)
                    self._interleave(row.step_id, line)
        elif isinstance(event, ev.StepSkipped):
            row.status, row.completed_at = "skipped", event.at
        elif isinstance(event, ev.StepFailed):
            row.status, row.error, row.error_type = "failed", event.error, event.error_type
            row.completed_at = event.at
            row.history.append(f"attempt {row.attempts or 1}: failed [{event.error_type}] "
                               f"{event.error}")
        elif isinstance(event, ev.StepRetrying):
            row.status = "running"
        elif isinstance(event, ev.StepErrorContinued):
            row.status, row.error = "failed", event.error
        elif isinstance(event, ev.StepCancelled):
            row.status, row.cancelled_by = "cancelled", event.cancelled_by
            row.error = f"cancelled by {event.cancelled_by}: {event.reason}"
            row.history.append(f"attempt {row.attempts or 1}: {row.error}")
            row.completed_at = event.at
            row.group = event.concurrent_group or row.group
        elif isinstance(event, ev.HitlGateReached | ev.HitlModifyReached):
            row.status = "waiting"
            row.started_at = row.started_at or event.at
            self.questions.setdefault(row.step_id, event)
        elif isinstance(event, ev.PermissionRequested):
            row.status = "waiting"
            self.questions.setdefault(event.request_id, event)
        elif isinstance(event, ev.PermissionAnswered):
            self.answered(event.request_id)
            mark = "✗" if event.decision == "deny" else "✓"
            reason = f" ({event.reason})" if event.reason else ""
            row.notes.append(f"{mark} {event.tool_name}: "
                             f"{PERMISSION_WORDS.get(event.decision, event.decision)}{reason}")

    def _runner_event(self, row: StepRow, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind in ANSWERS:
            row.api_retry = None  # the API answered
        if kind == "retry":
            row.api_retry = event
        elif kind in ("warning", "info"):
            if event.get("kind") != "status":  # passing states are for the event log
                mark = "⚠" if kind == "warning" else "·"
                row.notes.append(f"{mark} {event.get('message', '')}")
        elif kind == "usage" and row.status == "running":  # live; the step's end is exact
            row.input_tokens = _int(event.get("input_tokens"))
            row.output_tokens = _int(event.get("output_tokens"))
        elif kind == "tool_progress":
            row.tool_elapsed[str(event.get("tool_id"))] = _number(event.get("elapsed_s"))
        elif kind == "stream_delta":
            self._stream(row, str(event.get("text", "")))
        elif kind == "completed":  # the runner's final word replaces the live pieces
            row.response = event.get("response")
            thinking = event.get("thinking")
            row.thinking = thinking if isinstance(thinking, str) else row.thinking
            model = event.get("model")
            row.model = model if isinstance(model, str) else row.model
            tools = event.get("tool_events")
            if isinstance(tools, list) and tools:
                row.tool_events = list(tools)
        elif kind == "thinking":
            row.thinking = (row.thinking or "") + str(event.get("text", ""))
        elif kind in ("tool_use", "tool_result", "subagent_text"):
            row.tool_events.append(dict(event))

    def _stream(self, row: StepRow, text: str) -> None:
        row.add_text(text)
        pieces = text.split("\n")
        if self._open_line == row.step_id and self.interleaved:
            # The step's unfinished line is still the newest: the text continues it.
            self.interleaved[-1] = (row.step_id, self.interleaved[-1][1] + pieces[0])
        else:
            self._interleave(row.step_id, pieces[0])
        for piece in pieces[1:]:
            self._interleave(row.step_id, piece)
        self._open_line = row.step_id

    def _interleave(self, step_id: str, text: str) -> None:
        """Add a whole line to the interleaved output."""
        self.interleaved.append((step_id, text))
        self.interleaved_total += 1
        self._open_line = None

    def searchable(self) -> list[TextLine]:
        """Every text of the run, line by line, for search."""
        out: list[TextLine] = []
        for row in self.rows.values():
            fields = {"prompt": row.prompt, "response": row.response, "error": row.error,
                      "thinking": row.thinking}
            for name, text in fields.items():
                out.extend(TextLine(row.step_id, name, line, number)
                           for number, line in enumerate((text or "").splitlines()))
            first = row.lines_total - len(row.output)
            out.extend(TextLine(row.step_id, "output", line, first + number)
                       for number, line in enumerate(row.output))
        return out

    def answered(self, key: str) -> None:
        """A question was answered; its step goes on unless it still waits for another."""
        question = self.questions.pop(key, None)
        if question is None:
            return
        row = self.rows.get(question.step_id)
        still = any(q.step_id == question.step_id for q in self.questions.values())
        if row is not None and row.status == "waiting" and not still:
            row.status = "running"


_PAST_A_GATE = (ev.StepCompleted, ev.StepFailed, ev.StepErrorContinued, ev.StepCancelled,
                ev.StepSkipped)
"""Events after which a step's gate no longer waits."""


def _why_not_run(state: str) -> str:
    """Why a step that never began did not run, by how the run ended."""
    why = WHY_NOT_RUN.get(state)
    if why is None:
        return f"the run {state} without reaching this step"
    return f"{why} before it reached this step"


def _kind_told(row: StepRow, event: ev.Event) -> str | None:
    """The kind of step an event shows (None: it does not tell), for rows no plan listed:
    a replayed ``--log`` or a run followed without its pipeline."""
    if isinstance(event, ev.StepStarted):
        prompt = event.resolved_prompt or ""
        if event.child_run is not None:
            return "pipeline"
        if prompt.startswith(("join:[", "join (no async")):
            return "join"
        if prompt.startswith(("do_while(", "for_each(")):
            return "loop"
        return None
    if isinstance(event, ev.StepOutput):
        return "shell"  # only shell commands print lines of their own
    if isinstance(event, ev.RunnerEvent):
        return "prompt"
    if isinstance(event, ev.HitlModifyReached):
        return "modify_output"
    if isinstance(event, ev.HitlGateReached):  # a failed step's on_error gate: it began
        return "pause_for_human" if row.status in ("pending", "queued") else None
    if isinstance(event, ev.StepCompleted):
        if event.gate_passed is not None:
            return "pause_for_human"
        if event.exit_code is not None:
            return "shell"
        if event.model or event.cost_usd is not None or event.input_tokens:
            return "prompt"  # a runner's answer (a bare response may be a join's or a loop's)
    return None


def _completed(event: ev.StepCompleted) -> str:
    """A completed step's status: ``reused``, ``reconciled`` or ``done``."""
    if event.reused_from:
        return "reused"
    return "reconciled" if event.reconciled else "done"


def _number(value: object) -> float:
    """A JSON number as a float; 0.0 for anything else."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _int(value: object) -> int:
    return int(_number(value))
