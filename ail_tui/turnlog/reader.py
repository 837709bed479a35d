"""Rebuilding a run from its turn log — ours, the Rust ``ail``'s, or a crashed one.

Lines (brief §9): blank lines are skipped; an unparseable *last* line is a torn write,
ignored and noted (``torn_tail``); an unparseable line elsewhere is skipped with a
warning. Records dispatch on ``type`` (or ``event`` for the spec's spelling of
``step_cancelled``); unknown types and keys are ignored; a record with ``step_id`` and
no ``type`` is a TurnEntry.

Attempts, per step id: ``step_started`` opens one; ``step_error`` closes it as
``retried`` (action ``retry``) or ``failed`` (``continue`` / ``abort_pipeline``); a
TurnEntry closes it as ``done``; ``step_cancelled`` as ``cancelled``. A TurnEntry with no
open attempt (Rust async entries, joins, actions) is a done attempt of its own, except
that the synthetic entry our branches write after ``step_error(continue)`` stays on that
failed attempt. Attempts still open at EOF are ``failed`` (``cancelled`` when the run was
cancelled) if the log has ``run_finished``, else ``interrupted``.

Run status:

1. ``run_finished`` present: its ``status`` (``completed|break|aborted|failed|cancelled``).
2. Else ``running`` while its writer still holds the log (:mod:`.liveness`); its open
   attempts stay ``running`` too.
3. Else ``interrupted`` when the tail is torn, an attempt is still open, the file is
   empty, or the log is ours (a typed record carries ``at``): our runs always end with
   ``run_finished``, so its absence means the run crashed or is still going.
4. Else (a Rust log, which never writes ``run_finished``): ``failed`` when the last step
   record is a ``step_error`` that aborted (retries exhausted); else ``completed``. A
   Rust run that ended cleanly reads as completed rather than "unknown": nothing in its
   log can say more, and a default-abort failure (Rust writes nothing for it) or a crash
   mid-step leaves an open attempt, so it still reads as ``interrupted``. Rust branches
   persist nothing until their barrier, so a Rust run killed mid-parallel-section reads
   as completed — a known blind spot.

Times: ``started_at`` is ``run_started.at`` or else the earliest timestamp in the log;
``finished_at`` is ``run_finished.at`` or else the latest timestamp. A log with no
timestamps at all (Rust, sequential) uses the file's mtime for both and reports no
``duration``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ail_tui.files import FileReadError, read_file_bytes
from ail_tui.turnlog.liveness import is_being_written
from ail_tui.turnlog.timestamps import parse_timestamp

STAMPS = ("launched_at", "started_at", "completed_at")
OPEN = "running"


@dataclass
class Attempt:
    """One try at a step: ``running`` (only while reading), ``done``, ``retried``,
    ``failed``, ``cancelled`` or ``interrupted``."""

    number: int
    status: str
    prompt: str | None = None
    entry: dict[str, Any] | None = None
    error_type: str | None = None
    error: str | None = None
    cancelled_by: str | None = None
    reason: str | None = None
    at: float | None = None
    action: str | None = None  # the step_error's on_error_action, if any


@dataclass
class StepRecord:
    """Everything the log says about one step id (times are epoch seconds)."""

    step_id: str
    attempts: list[Attempt] = field(default_factory=list)
    concurrent_group: str | None = None
    launched_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    order: int = 0
    times: dict[str, str] = field(default_factory=dict)  # the log's text of each time

    @property
    def status(self) -> str:
        """The status of the last attempt."""
        return self.attempts[-1].status if self.attempts else "unknown"

    @property
    def entry(self) -> dict[str, Any] | None:
        """The last TurnEntry recorded for the step."""
        for attempt in reversed(self.attempts):
            if attempt.entry is not None:
                return attempt.entry
        return None

    def _sum(self, key: str) -> float | int | None:
        values = [a.entry.get(key) for a in self.attempts if a.entry]
        present = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        return sum(present) if present else None

    @property
    def cost_usd(self) -> float | None:
        """Cost of every entry of the step; None when none has a cost (context steps)."""
        return self._sum("cost_usd")

    @property
    def input_tokens(self) -> int:
        """Input tokens of every entry of the step."""
        return int(self._sum("input_tokens") or 0)

    @property
    def output_tokens(self) -> int:
        """Output tokens of every entry of the step."""
        return int(self._sum("output_tokens") or 0)

    @property
    def error(self) -> str | None:
        """The last attempt's error, or ``cancelled by X: reason``."""
        last = self.attempts[-1] if self.attempts else None
        if last is None:
            return None
        if last.status == "cancelled":
            return f"cancelled by {last.cancelled_by}: {last.reason}"
        return last.error

    @property
    def is_join(self) -> bool:
        """Whether the step is a join (its entry's prompt is ``join:[…]``)."""
        prompt = (self.entry or {}).get("prompt")
        return isinstance(prompt, str) and prompt.startswith(("join:[", "join (no async"))

    @property
    def join_deps(self) -> list[str]:
        """A join's dependencies, from its ``join:[a,b]`` prompt."""
        prompt = (self.entry or {}).get("prompt")
        if not (isinstance(prompt, str) and prompt.startswith("join:[") and
                prompt.endswith("]")):
            return []
        return [dep for dep in prompt[len("join:["):-1].split(",") if dep]


@dataclass
class RunRecord:
    """A run rebuilt from its turn log."""

    run_id: str
    path: Path
    pipeline_source: str | None = None
    project_hash: str | None = None
    status: str = "unknown"
    error_type: str | None = None
    error: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    steps: list[StepRecord] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    torn_tail: bool = False
    warnings: list[str] = field(default_factory=list)
    has_run_finished: bool = False
    has_timestamps: bool = False
    written_by: str = "ail"  # "ail-tui" when a typed record carries our ``at``

    def step(self, step_id: str) -> StepRecord | None:
        """The record of one step."""
        return next((s for s in self.steps if s.step_id == step_id), None)

    @property
    def total_cost(self) -> float:
        """Sum of every TurnEntry's ``cost_usd``."""
        return float(sum(cost for r in self.records if _kind(r) == "entry"
                         and isinstance(cost := r.get("cost_usd"), int | float)))

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish; None when the log has no timestamps."""
        if not self.has_timestamps or self.started_at is None or self.finished_at is None:
            return None
        return max(self.finished_at - self.started_at, 0.0)

    def counts(self) -> Counter[str]:
        """Steps by status."""
        return Counter(s.status for s in self.steps)

    def groups(self) -> dict[str, list[StepRecord]]:
        """Concurrent groups and their steps, both in first-appearance order."""
        out: dict[str, list[StepRecord]] = {}
        for step in self.steps:
            if step.concurrent_group:
                out.setdefault(step.concurrent_group, []).append(step)
        return out


def _kind(record: dict[str, Any]) -> str | None:
    kind = record.get("type")
    if kind is None and record.get("event") == "step_cancelled":
        return "step_cancelled"
    if kind is None and "step_id" in record:
        return "entry"
    return kind if isinstance(kind, str) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class _Builder:
    """Folds records, in order, into a :class:`RunRecord`."""

    def __init__(self, run: RunRecord) -> None:
        self.run = run
        self.by_id: dict[str, StepRecord] = {}
        self.last_abort = False
        self.first: float | None = None
        self.last: float | None = None
        self.run_started_at: float | None = None

    def step(self, step_id: str) -> StepRecord:
        record = self.by_id.get(step_id)
        if record is None:
            record = StepRecord(step_id, order=len(self.by_id))
            self.by_id[step_id] = record
            self.run.steps.append(record)
        return record

    def attempt(self, step: StepRecord, prompt: str | None = None) -> Attempt:
        """The open attempt, or a new one."""
        if step.attempts and step.attempts[-1].status == OPEN:
            return step.attempts[-1]
        attempt = Attempt(len(step.attempts) + 1, OPEN, prompt)
        step.attempts.append(attempt)
        return attempt

    def stamp(self, value: Any) -> float | None:
        moment = parse_timestamp(value) if isinstance(value, str) else None
        if moment is not None:
            self.first = moment if self.first is None else min(self.first, moment)
            self.last = moment if self.last is None else max(self.last, moment)
        return moment

    def times(self, step: StepRecord, record: dict[str, Any], *keys: str) -> None:
        """Copy group and the given timestamps from ``record`` onto ``step``."""
        if isinstance(group := record.get("concurrent_group"), str) and group:
            step.concurrent_group = group
        for key in keys:
            moment = self.stamp(record.get(key))
            if moment is not None:
                setattr(step, key, moment)
                step.times[key] = record[key]

    def add(self, record: dict[str, Any], line: int) -> None:
        kind = _kind(record)
        if "at" in record and kind != "entry":
            self.run.written_by = "ail-tui"
        if kind == "run_started":
            self.run.pipeline_source = _text(record.get("pipeline_source"))
            self.run.project_hash = _text(record.get("project_hash"))
            self.run_started_at = self.stamp(record.get("at"))
            return
        if kind == "run_finished":
            self.run.has_run_finished = True
            self.run.status = _text(record.get("status")) or "unknown"
            self.run.error_type = _text(record.get("error_type"))
            self.run.error = _text(record.get("error"))
            self.stamp(record.get("at"))
            return
        if kind not in ("step_started", "entry", "step_error", "step_cancelled"):
            return  # unknown record types are someone else's additions
        step_id = record.get("step_id")
        if not isinstance(step_id, str):
            self.run.warnings.append(f"line {line}: {kind} without a step_id; skipped")
            return
        step = self.step(step_id)
        getattr(self, f"_{kind}")(step, record)
        self.last_abort = kind == "step_error" and step.attempts[-1].action == "abort_pipeline"

    def _step_started(self, step: StepRecord, record: dict[str, Any]) -> None:
        attempt = self.attempt(step)
        attempt.prompt = _text(record.get("prompt")) or attempt.prompt
        self.times(step, record, "launched_at")
        moment = self.stamp(record.get("at"))
        if moment is not None:
            step.started_at, step.times["started_at"] = moment, record["at"]

    def _entry(self, step: StepRecord, record: dict[str, Any]) -> None:
        last = step.attempts[-1] if step.attempts else None
        if (last is not None and last.status == "failed" and last.action == "continue"
                and last.entry is None and not record.get("response")):
            attempt = last  # a branch's synthetic entry after on_error: continue
        else:
            attempt = self.attempt(step)
            attempt.status = "done"
        attempt.entry = record
        attempt.prompt = _text(record.get("prompt")) or attempt.prompt
        self.times(step, record, *STAMPS)
        attempt.at = parse_timestamp(_text(record.get("completed_at")) or "")

    def _step_error(self, step: StepRecord, record: dict[str, Any]) -> None:
        attempt = self.attempt(step)
        attempt.action = _text(record.get("on_error_action"))
        attempt.status = "retried" if attempt.action == "retry" else "failed"
        attempt.error_type = _text(record.get("error_type"))
        attempt.error = _text(record.get("error_detail"))
        attempt.at = self.stamp(record.get("at"))
        if attempt.at is not None and attempt.status == "failed":
            step.completed_at, step.times["completed_at"] = attempt.at, record["at"]

    def _step_cancelled(self, step: StepRecord, record: dict[str, Any]) -> None:
        attempt = self.attempt(step)
        attempt.status = "cancelled"
        attempt.cancelled_by = _text(record.get("cancelled_by"))
        attempt.reason = _text(record.get("reason"))
        attempt.at = self.stamp(record.get("at"))
        self.times(step, record, "launched_at")
        if attempt.at is not None:
            step.completed_at, step.times["completed_at"] = attempt.at, record["at"]

    def finish(self, mtime: float | None, live: bool) -> None:
        run = self.run
        open_steps = [s for s in run.steps if s.status == OPEN]
        if live and not run.has_run_finished:
            run.status = "running"  # its open steps stay running too
        elif run.has_run_finished:
            closing = "cancelled" if run.status == "cancelled" else "failed"
            for step in open_steps:
                attempt = step.attempts[-1]
                attempt.status = closing
                attempt.error_type = attempt.error_type or run.error_type
                attempt.error = attempt.error or run.error
                if closing == "cancelled":
                    attempt.cancelled_by, attempt.reason = "run", run.error or "run cancelled"
        else:
            for step in open_steps:
                step.attempts[-1].status = "interrupted"
            if (open_steps or run.torn_tail or not run.records
                    or run.written_by == "ail-tui"):
                run.status = "interrupted"
            elif self.last_abort:
                run.status = "failed"
            else:
                run.status = "completed"
        run.has_timestamps = self.first is not None
        if run.has_timestamps:
            run.started_at = self.run_started_at or self.first
            run.finished_at = self.last
        else:
            run.started_at = run.finished_at = mtime


MAX_TURN_LOG_BYTES = 512 * 2**20
"""Turn logs are read up to 512 MiB (and only from regular files)."""


def read_run(path: str | os.PathLike[str]) -> RunRecord:
    """Rebuild a run from a JSONL turn log; raise ``OSError`` when it cannot be read."""
    source = Path(path)
    run = RunRecord(run_id=source.stem, path=source)
    try:
        data = read_file_bytes(source, MAX_TURN_LOG_BYTES, "turn logs")
    except FileReadError as exc:
        raise OSError(str(exc)) from None
    lines = data.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    builder = _Builder(run)
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            if number == len(lines):
                run.torn_tail = True
            else:
                run.warnings.append(f"line {number} is not JSON; skipped")
            continue
        if not isinstance(record, dict):
            run.warnings.append(f"line {number} is not a JSON object; skipped")
            continue
        run.records.append(record)
        builder.add(record, number)
    mtime = None
    with contextlib.suppress(OSError):
        mtime = source.stat().st_mtime
    builder.finish(mtime, live=not run.has_run_finished and is_being_written(source))
    return run
