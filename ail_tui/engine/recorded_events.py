"""A run read from its turn log, as the events a live run would have emitted.

The records are walked in log order, each matched to the attempt the reader made of it
(:mod:`ail_tui.turnlog.reader`), so the events tell what the reader concluded: a retried
attempt fails and is retried, the synthetic entry a branch writes after ``on_error:
continue`` adds nothing to its failed attempt, an attempt left open by a run that
recorded its end fails (or is cancelled, with the run), and one left open by a crashed
run stays in flight until the run's end closes it as ``interrupted``.

A resumed run's log (D1) is replayed as one run: where a ``run_resumed`` record ends a
segment, the segment's end is told (``interrupted`` when it stopped without a word, else
its ``run_finished`` status), its open attempts are closed as the reader closed them, and
a ``RunStarted`` with ``resumed`` begins the next segment. A result reused from an earlier
run (``reused_from``) completes without starting, as a live run announces it; one
``reconciled`` after a crash completes the attempt that ran its ``reconcile`` command.
A sub-pipeline step starts with its ``child_run`` and a gate the run went past completes
with ``gate_passed``, as live, so a view with no plan can tell what kind of step each is.

Times: an event's ``at`` is the log's time for it. Where the log has none (the Rust
``ail`` writes no time on its sequential records), it is the latest time the log gave
before it, or else the run's start (for a log with no time at all: the file's mtime,
as the reader has it). The events are then put in the order things happened: by time,
never a step's event before an earlier one of the same step, and in log order where
times are equal (a stable sort).
"""

from __future__ import annotations

import time
from typing import Any

from ail_tui.engine import events as ev
from ail_tui.turnlog.reader import Attempt, RunRecord, StepRecord
from ail_tui.turnlog.records import kind_of
from ail_tui.turnlog.timestamps import parse_timestamp

UNFINISHED = "the run ended without recording its end: it crashed or was killed"
"""The error of a replayed run whose log has no ``run_finished`` (``interrupted``)."""

_Pending = tuple[float | None, str | None, type[ev.Event], dict[str, Any]]
"""An event to make: its time in the log (None: none), its step, its type and fields."""


def recorded_events(run: RunRecord) -> list[ev.Event]:
    """The events of ``run``, from ``run_started`` to its end (none for a run still being
    written: its log has not ended)."""
    return _Replay(run).events()


def _stamp(record: dict[str, Any], key: str) -> float | None:
    value = record.get(key)
    return parse_timestamp(value) if isinstance(value, str) else None


class _Replay:
    """Walks one run's records and makes their events."""

    def __init__(self, run: RunRecord) -> None:
        self.run = run
        self.steps = {step.step_id: step for step in run.steps}
        self.closed_by = {id(attempt.entry): attempt for step in run.steps
                          for attempt in step.attempts if attempt.entry is not None}
        """Each attempt by the entry record the reader gave it."""
        self.pending: list[_Pending] = []
        self.used: dict[str, int] = {}  # attempts of each step met so far
        self.open: dict[str, Attempt] = {}  # opened by a step_started, not yet closed
        self.started: set[tuple[str, int]] = set()  # attempts whose StepStarted is made
        self.segment = 0  # of the records being walked (see RunRecord.segments)

    def add(self, at: float | None, step: StepRecord | None, kind: type[ev.Event],
            **fields: Any) -> None:
        if step is not None:
            fields["step_id"] = step.step_id
        self.pending.append((at, step.step_id if step else None, kind, fields))

    def events(self) -> list[ev.Event]:
        run = self.run
        finished: dict[str, Any] | None = None  # the current segment's run_finished
        for record in run.records:
            kind = kind_of(record)
            step_id = record.get("step_id")
            step = self.steps.get(step_id) if isinstance(step_id, str) else None
            if step is not None and kind in ("step_started", "entry", "step_error",
                                             "step_cancelled"):
                getattr(self, f"_{kind}")(step, record)
            elif kind == "gate_passed" and isinstance(step_id, str):
                self.pending.append((_stamp(record, "at"), step_id, ev.StepCompleted, {
                    "step_id": step_id, "gate_passed": _iteration(record)}))  # as seen live
            elif kind == "run_finished":
                finished = record
            elif kind == "run_resumed":
                self._resumed(record, finished)
                finished = None
        self._close_open(run.finished_at)
        start = run.started_at if run.started_at is not None else time.time()
        return [self._run_started(start), *self._in_order(start), *self._end(start)]

    def _run_started(self, at: float, resumed: bool | None = None) -> ev.RunStarted:
        run = self.run
        return ev.RunStarted(at=at, pipeline_source=run.pipeline_source, run_id=run.run_id,
                             total_steps=len(run.steps), log_path=str(run.path),
                             resumed=resumed)

    def _resumed(self, record: dict[str, Any], finished: dict[str, Any] | None) -> None:
        """A segment ends (as the reader says it did) and the run goes on."""
        self.segment += 1
        ended = self.run.segments[self.segment - 1].ended or "interrupted"
        end = _stamp(finished, "at") if finished is not None else None
        self._close_open(end)
        if finished is None or ended == "interrupted":
            self.add(end, None, ev.PipelineError, error=UNFINISHED, error_type="",
                     status="interrupted")
        elif ended in ("completed", "break"):
            self.add(end, None, ev.PipelineCompleted, outcome=ended)
        else:
            self.add(end, None, ev.PipelineError, error=_text(finished.get("error")) or "",
                     error_type=_text(finished.get("error_type")) or "", status=ended)
        self.add(_stamp(record, "at"), None, ev.RunStarted,
                 pipeline_source=self.run.pipeline_source, run_id=self.run.run_id,
                 total_steps=len(self.run.steps), log_path=str(self.run.path), resumed=True)

    def _in_order(self, start: float) -> list[ev.Event]:
        latest = start  # the latest time the log gave so far
        keys: dict[str, float] = {}  # each step's latest sort key
        made: list[tuple[float, int, ev.Event]] = []
        for index, (at, step_id, kind, fields) in enumerate(self.pending):
            moment = latest if at is None else at
            latest = max(latest, moment)
            key = moment if step_id is None else max(moment, keys.get(step_id, moment))
            if step_id is not None:
                keys[step_id] = key
            made.append((key, index, kind(at=moment, **fields)))
        made.sort(key=lambda item: (item[0], item[1]))
        return [event for _, _, event in made]

    def _end(self, start: float) -> list[ev.Event]:
        run = self.run
        end = run.finished_at if run.finished_at is not None else start
        if run.status in ("completed", "break"):
            return [ev.PipelineCompleted(at=end, outcome=run.status)]
        if run.status == "running":
            return []  # still being written: the log has no end yet
        error = run.error or (UNFINISHED if run.status == "interrupted" else "")
        return [ev.PipelineError(at=end, error=error, error_type=run.error_type or "",
                                 status=run.status)]

    # -- attempts ------------------------------------------------------------------------

    def _next(self, step: StepRecord) -> Attempt | None:
        """The open attempt, or the next one (the reader's rule)."""
        attempt = self.open.pop(step.step_id, None)
        if attempt is not None:
            return attempt
        used = self.used.get(step.step_id, 0)
        if used >= len(step.attempts):
            return None
        self.used[step.step_id] = used + 1
        return step.attempts[used]

    def _start(self, step: StepRecord, attempt: Attempt, at: float | None,
               launched: float | None, *, queue_only: bool = False,
               child_run: str | None = None) -> None:
        """Queue (a branch's first attempt) and start ``attempt``, unless it was
        (``child_run``: a sub-pipeline step's own run, as its record has it)."""
        if (step.step_id, attempt.number) in self.started:
            return
        self.started.add((step.step_id, attempt.number))
        if step.concurrent_group and launched is not None and attempt.number == 1:
            self.add(launched, step, ev.StepQueued, concurrent_group=step.concurrent_group)
        if not queue_only:
            self.add(at, step, ev.StepStarted, step_index=step.order,
                     total_steps=len(self.run.steps), resolved_prompt=attempt.prompt,
                     concurrent_group=step.concurrent_group, attempt=attempt.number,
                     child_run=child_run)

    # -- records -------------------------------------------------------------------------

    def _step_started(self, step: StepRecord, record: dict[str, Any]) -> None:
        attempt = self._next(step)
        if attempt is not None:
            self.open[step.step_id] = attempt
            self._start(step, attempt, _stamp(record, "at"), _stamp(record, "launched_at"),
                        child_run=_text(record.get("child_run_id")))

    def _entry(self, step: StepRecord, record: dict[str, Any]) -> None:
        attempt = self.closed_by.get(id(record))
        if attempt is None or self._next_for(step, attempt) is None:
            return  # a branch's entry after on_error: continue: its attempt failed
        launched, done = _stamp(record, "launched_at"), _stamp(record, "completed_at")
        # Without its start: a branch ran from its launch on, as far as anyone knows; any
        # other step (a join) when it was done, the way a live run announces it.
        started = _stamp(record, "started_at") or (
            launched if step.concurrent_group else done or launched)
        reused_from = _text(record.get("reused_from"))
        # A reused result was not run: a branch is queued, nothing starts (as when live).
        self._start(step, attempt, started, launched, queue_only=reused_from is not None)
        for stream in ("stdout", "stderr"):
            for line in str(record.get(stream) or "").splitlines():
                self.add(done, step, ev.StepOutput, stream=stream, text=line)
        answer = {key: record.get(key) for key in ("response", "thinking", "model",
                                                   "tool_events")}
        if any(answer[key] for key in ("thinking", "model", "tool_events")) or record.get(
                "runner_session_id"):
            self.add(done, step, ev.RunnerEvent, event={
                "type": "completed", **answer, "cost_usd": record.get("cost_usd"),
                "session_id": record.get("runner_session_id"),
                "input_tokens": _count(record.get("input_tokens")),
                "output_tokens": _count(record.get("output_tokens")),
                "tool_events": list(answer["tool_events"] or [])})
        cost = record.get("cost_usd")
        exit_code = record.get("exit_code")
        self.add(done, step, ev.StepCompleted,
                 cost_usd=float(cost) if isinstance(cost, int | float) else None,
                 input_tokens=_count(record.get("input_tokens")),
                 output_tokens=_count(record.get("output_tokens")),
                 response=_text(record.get("response")), model=_text(record.get("model")),
                 concurrent_group=step.concurrent_group,
                 exit_code=exit_code if isinstance(exit_code, int) else None,
                 reused_from=reused_from,
                 reconciled=True if record.get("reconciled") is True else None)

    def _next_for(self, step: StepRecord, attempt: Attempt) -> Attempt | None:
        """The attempt an entry closes: the open one or the next, if it is ``attempt``."""
        if self.open.get(step.step_id) is attempt:
            return self.open.pop(step.step_id)
        used = self.used.get(step.step_id, 0)
        if used < len(step.attempts) and step.attempts[used] is attempt:
            self.used[step.step_id] = used + 1
            return attempt
        return None

    def _step_error(self, step: StepRecord, record: dict[str, Any]) -> None:
        attempt = self._next(step)
        if attempt is None:
            return
        at, error, error_type = _stamp(record, "at"), attempt.error or "", attempt.error_type
        self.add(at, step, ev.StepFailed, error=error, error_type=error_type or "")
        if attempt.action == "retry":
            self.add(at, step, ev.StepRetrying, error=error, attempt=attempt.number,
                     max_retries=_count(record.get("max_retries")))
        elif attempt.action == "continue":
            self.add(at, step, ev.StepErrorContinued, error=error, error_type=error_type or "")

    def _step_cancelled(self, step: StepRecord, record: dict[str, Any]) -> None:
        attempt = self._next(step)
        if attempt is None:
            return
        self._start(step, attempt, None, _stamp(record, "launched_at"), queue_only=True)
        self._cancelled(step, attempt, _stamp(record, "at"))

    def _cancelled(self, step: StepRecord, attempt: Attempt, at: float | None) -> None:
        self.add(at, step, ev.StepCancelled, cancelled_by=attempt.cancelled_by or "",
                 reason=attempt.reason or "", concurrent_group=step.concurrent_group)

    def _close_open(self, end: float | None) -> None:
        """Attempts a segment left open: the reader failed (or cancelled) them when the run
        recorded its end (at ``end``); a crashed run's stay in flight until its end."""
        for step_id, attempt in self.open.items():
            step = self.steps[step_id]
            if attempt.status == "failed":
                self.add(end, step, ev.StepFailed, error=attempt.error or "",
                         error_type=attempt.error_type or "")
            elif attempt.status == "cancelled":
                self._cancelled(step, attempt, end)
        self.open.clear()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _iteration(record: dict[str, Any]) -> tuple[int, ...]:
    """Inside loops, the iteration a record names (outermost first); else ``()``."""
    value = record.get("iteration")
    if not isinstance(value, list):
        return ()
    return tuple(n for n in value if isinstance(n, int) and not isinstance(n, bool))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
