"""Rebuilding a run from its turn log — ours, the Rust ``ail``'s, or a crashed one.

Rules (brief §9): blank lines are skipped; an unparseable *last* line is a torn write
and is ignored; records dispatch on ``type`` (``event`` for the spec's spelling of
``step_cancelled``); a record with ``step_id`` and no ``type`` is a TurnEntry.

Per step, ``step_started`` opens an attempt; ``step_error`` (retry) closes it as
retried, a TurnEntry as done, ``step_error`` (continue / abort_pipeline) as failed,
``step_cancelled`` as cancelled. Status of the run:

* ``run_finished`` present (ours): its status;
* otherwise (Rust logs, crashes): ``interrupted`` when an attempt is still open or the
  last line is torn; ``failed`` when the last step record is a ``step_error`` that
  aborted; else ``completed``. A Rust run that aborted with no record of it (Rust
  writes none for a plain abort) leaves an open attempt and reads as ``interrupted``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ail_tui.turnlog.timestamps import parse_timestamp


@dataclass
class Attempt:
    """One try at a step."""

    number: int
    status: str  # running | done | retried | failed | cancelled | interrupted
    prompt: str | None = None
    entry: dict[str, Any] | None = None
    error_type: str | None = None
    error: str | None = None
    cancelled_by: str | None = None
    reason: str | None = None
    at: float | None = None


@dataclass
class StepRecord:
    """Everything the log says about one step id."""

    step_id: str
    attempts: list[Attempt] = field(default_factory=list)
    concurrent_group: str | None = None
    launched_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    order: int = 0

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

    def _sum(self, key: str) -> Any:
        values = [a.entry.get(key) for a in self.attempts if a.entry]
        present = [v for v in values if isinstance(v, int | float)]
        return sum(present) if present else None

    @property
    def cost_usd(self) -> float | None:
        """Cost of every recorded entry of the step."""
        return self._sum("cost_usd")

    @property
    def input_tokens(self) -> int:
        """Input tokens of every recorded entry."""
        return int(self._sum("input_tokens") or 0)

    @property
    def output_tokens(self) -> int:
        """Output tokens of every recorded entry."""
        return int(self._sum("output_tokens") or 0)

    @property
    def error(self) -> str | None:
        """The last attempt's error or cancellation reason."""
        last = self.attempts[-1] if self.attempts else None
        if last is None:
            return None
        if last.status == "cancelled":
            return f"cancelled by {last.cancelled_by}: {last.reason}"
        return last.error


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

    def step(self, step_id: str) -> StepRecord | None:
        """The record of one step."""
        return next((s for s in self.steps if s.step_id == step_id), None)

    @property
    def total_cost(self) -> float:
        """Sum of every TurnEntry's ``cost_usd``."""
        return sum(r.get("cost_usd") or 0.0 for r in self.records if "type" not in r
                   and "event" not in r)

    @property
    def duration(self) -> float | None:
        """Seconds from the first to the last timestamp, when the log has them."""
        if self.started_at is None or self.finished_at is None:
            return None
        return max(self.finished_at - self.started_at, 0.0)

    def counts(self) -> Counter[str]:
        """Steps by status."""
        return Counter(s.status for s in self.steps)

    def groups(self) -> dict[str, list[StepRecord]]:
        """Concurrent groups and their steps, in first-appearance order."""
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


class _Builder:
    def __init__(self, run: RunRecord) -> None:
        self.run = run
        self.by_id: dict[str, StepRecord] = {}
        self.last_kind: str | None = None
        self.last_abort = False

    def step(self, step_id: str) -> StepRecord:
        record = self.by_id.get(step_id)
        if record is None:
            record = StepRecord(step_id, order=len(self.by_id))
            self.by_id[step_id] = record
            self.run.steps.append(record)
        return record

    def open_attempt(self, step: StepRecord, prompt: str | None = None) -> Attempt:
        if step.attempts and step.attempts[-1].status == "running":
            return step.attempts[-1]
        attempt = Attempt(len(step.attempts) + 1, "running", prompt)
        step.attempts.append(attempt)
        return attempt

    def stamp(self, when: Any) -> float | None:
        moment = parse_timestamp(when) if isinstance(when, str) else None
        if moment is not None:
            run = self.run
            run.started_at = moment if run.started_at is None else min(run.started_at, moment)
            run.finished_at = moment if run.finished_at is None else max(run.finished_at,
                                                                         moment)
        return moment

    def _branch_stamps(self, step: StepRecord, record: dict[str, Any]) -> None:
        step.concurrent_group = record.get("concurrent_group") or step.concurrent_group
        step.launched_at = self.stamp(record.get("launched_at")) or step.launched_at

    def add(self, record: dict[str, Any]) -> None:
        kind = _kind(record)
        step_id = record.get("step_id")
        if kind == "run_started":
            self.run.pipeline_source = record.get("pipeline_source")
            self.run.project_hash = record.get("project_hash")
            self.stamp(record.get("at"))
        elif kind == "run_finished":
            self.run.has_run_finished = True
            self.run.status = str(record.get("status") or "unknown")
            self.run.error_type = record.get("error_type")
            self.run.error = record.get("error")
            self.stamp(record.get("at"))
        elif kind == "step_started" and isinstance(step_id, str):
            step = self.step(step_id)
            self.open_attempt(step, record.get("prompt"))
            self._branch_stamps(step, record)
            step.started_at = self.stamp(record.get("at")) or step.started_at
        elif kind == "entry" and isinstance(step_id, str):
            step = self.step(step_id)
            attempt = self.open_attempt(step, record.get("prompt"))
            attempt.status, attempt.entry = "done", record
            attempt.prompt = record.get("prompt", attempt.prompt)
            step.concurrent_group = record.get("concurrent_group") or step.concurrent_group
            step.launched_at = self.stamp(record.get("launched_at")) or step.launched_at
            step.started_at = self.stamp(record.get("started_at")) or step.started_at
            step.completed_at = self.stamp(record.get("completed_at")) or step.completed_at
            attempt.at = step.completed_at
        elif kind == "step_error" and isinstance(step_id, str):
            step = self.step(step_id)
            attempt = self.open_attempt(step)
            action = record.get("on_error_action")
            attempt.status = "retried" if action == "retry" else "failed"
            attempt.error_type = record.get("error_type")
            attempt.error = record.get("error_detail")
            attempt.at = self.stamp(record.get("at"))
            step.completed_at = attempt.at or step.completed_at
            self.last_abort = action == "abort_pipeline"
        elif kind == "step_cancelled" and isinstance(step_id, str):
            step = self.step(step_id)
            attempt = self.open_attempt(step)
            attempt.status = "cancelled"
            attempt.cancelled_by = record.get("cancelled_by")
            attempt.reason = record.get("reason")
            attempt.at = self.stamp(record.get("at"))
            step.completed_at = attempt.at or step.completed_at
            self._branch_stamps(step, record)
        else:
            return
        if kind != "step_error":
            self.last_abort = False
        self.last_kind = kind

    def finish(self) -> None:
        run = self.run
        open_attempts = [s for s in run.steps if s.attempts and s.status == "running"]
        if run.has_run_finished:
            closing = "cancelled" if run.status == "cancelled" else "failed"
            for step in open_attempts:
                step.attempts[-1].status = closing
                step.attempts[-1].error = step.attempts[-1].error or run.error
            return
        for step in open_attempts:
            step.attempts[-1].status = "interrupted"
        if open_attempts or run.torn_tail:
            run.status = "interrupted"
        elif self.last_abort:
            run.status = "failed"
        else:
            run.status = "completed"


def read_run(path: str | os.PathLike[str]) -> RunRecord:
    """Rebuild a run from a JSONL turn log; raise ``OSError`` when it cannot be read."""
    source = Path(path)
    run = RunRecord(run_id=source.stem, path=source)
    lines = source.read_bytes().split(b"\n")
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
        builder.add(record)
    builder.finish()
    if run.started_at is None:
        with contextlib.suppress(OSError):
            run.started_at = run.finished_at = source.stat().st_mtime
    return run
