"""Rebuilding a run from its turn log — ours, the Rust ``ail``'s, or a crashed one.

Lines (brief §9): blank lines are skipped; an unparseable *last* line is a torn write,
ignored and noted (``torn_tail``); an unparseable line elsewhere is skipped with a
warning. Records dispatch on ``type`` (or ``event`` for the spec's spelling of
``step_cancelled``); unknown types and keys are ignored; a record with ``step_id`` and
no ``type`` is a TurnEntry.

Attempts, per step id: ``step_started`` opens one; ``step_error`` closes it as
``retried`` (action ``retry``) or ``failed`` (``continue`` / ``abort_pipeline``); a
TurnEntry closes it as ``done``; ``step_cancelled`` as ``cancelled``. A TurnEntry with no
open attempt (Rust async entries, joins, actions, an entry ``reconciled`` after a crash)
is a done attempt of its own, and so is one ``reused_from`` an earlier run (a rerun
writes no ``step_started`` for it), except that the synthetic entry our branches write
after ``step_error(continue)`` stays on that failed attempt. Attempts still open at EOF
are ``failed`` (``cancelled`` when the run was cancelled) if the log has
``run_finished``, else ``interrupted``. An attempt takes ``iteration`` (inside loops),
``reused_from`` and ``reconciled`` from its records; a Rust log names no iteration, so
its loops' iterations are worked out (:mod:`.rust_loops`).

Segments: ``run_resumed`` (``ail-tui resume``, D1) ends a segment and starts the next;
the records after it continue the same run (steps reused on resume write nothing again:
their earlier attempts stand). Attempts open at a resume are closed as at EOF: ``failed``
or ``cancelled`` when the segment ended with ``run_finished``, else ``interrupted``;
then ``run_finished``, status and error are forgotten and the run goes on. Each attempt
knows its segment; each :class:`~.records.Segment` its start, hashes and how it ended.

Run status (of the last segment):

1. ``run_finished`` present: its ``status`` (``completed|break|aborted|failed|cancelled``).
2. Else ``running`` while its writer still holds the log (:mod:`.liveness`); its open
   attempts stay ``running`` too.
2b. Else, for a Rust log, how the project's ``ail.db`` says the run ended, ``completed``
   or ``failed`` (Rust keeps a run's status only there); on ``failed``, attempts still open are
   ``failed``. Its ``running`` is not taken: Rust never ends the sessions of its
   sub-pipeline runs, nor those of runs that crashed.
3. Else ``interrupted`` when the tail is torn, an attempt is still open, the file is
   empty, or the log is ours (a typed record carries ``at``): our runs always end with
   ``run_finished``, so its absence means the run crashed or is still going.
4. Else (a Rust log, which never writes ``run_finished``): ``failed`` when the last step
   record is a ``step_error`` that aborted (retries exhausted); else ``completed``. A
   Rust run that ended cleanly reads as completed rather than "unknown": nothing in its
   log can say more, and a default-abort failure (Rust writes nothing for it) or a crash
   mid-step leaves an open attempt, so it still reads as ``interrupted``. Rust branches
   persist nothing until their barrier, so a Rust run killed mid-parallel-section reads
   as completed — a known blind spot. A Rust sub-pipeline step left open whose child run
   file is there failed in its child (:mod:`.sub_runs`): ``failed``, and so is the run.

Times: ``started_at`` is ``run_started.at`` or else the earliest timestamp in the log;
``finished_at`` is the last ``run_finished.at`` or else the latest timestamp (a resumed
run's duration spans its pauses). A log with no timestamps at all (Rust, sequential)
uses the file's mtime for both and reports no ``duration``.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from ail_tui.files import FileReadError, read_file_bytes
from ail_tui.turnlog.ail_db import recorded_end
from ail_tui.turnlog.liveness import is_being_written
from ail_tui.turnlog.records import Attempt, RunRecord, Segment, StepRecord, kind_of
from ail_tui.turnlog.rust_loops import RustLoops
from ail_tui.turnlog.sub_runs import child_run
from ail_tui.turnlog.timestamps import parse_timestamp

__all__ = ["MAX_TURN_LOG_BYTES", "Attempt", "RunRecord", "Segment", "StepRecord", "read_run"]

STAMPS = ("launched_at", "started_at", "completed_at")
OPEN = "running"
STEP_KINDS = ("step_started", "entry", "step_error", "step_cancelled")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _iteration(record: dict[str, Any]) -> tuple[int, ...] | None:
    """A record's loop iteration (``[n, ...]``, 1-based, outermost first), if any."""
    value = record.get("iteration")
    if (isinstance(value, list) and value
            and all(isinstance(n, int) and not isinstance(n, bool) for n in value)):
        return tuple(value)
    return None


def _hashes(record: dict[str, Any]) -> dict[str, str]:
    value = record.get("step_hashes")
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


class _Builder:
    """Folds records, in order, into a :class:`RunRecord`."""

    def __init__(self, run: RunRecord, *, times: bool = True) -> None:
        self.run = run
        self.with_times = times
        self.by_id: dict[str, StepRecord] = {}
        self.last_abort = False
        self.first: float | None = None
        self.last: float | None = None
        self.run_started_at: float | None = None
        self.index = 0  # of the record being added, in run.records
        self.rust_loops = RustLoops()

    def step(self, step_id: str) -> StepRecord:
        record = self.by_id.get(step_id)
        if record is None:
            record = StepRecord(step_id, order=len(self.by_id))
            self.by_id[step_id] = record
            self.run.steps.append(record)
        return record

    def new_attempt(self, step: StepRecord, status: str = OPEN) -> Attempt:
        attempt = Attempt(len(step.attempts) + 1, status, segment=len(self.run.segments) - 1,
                          first_record=self.index)
        step.attempts.append(attempt)
        return attempt

    def attempt(self, step: StepRecord) -> Attempt:
        """The open attempt, or a new one."""
        if step.attempts and step.attempts[-1].status == OPEN:
            return step.attempts[-1]
        return self.new_attempt(step)

    def stamp(self, value: Any) -> float | None:
        if not self.with_times:
            return None
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
        self.index = len(self.run.records) - 1
        kind = kind_of(record)
        if "at" in record and kind != "entry":
            self.run.written_by = "ail-tui"
        if kind == "run_started":
            self._run_started(record)
            return
        if kind == "run_resumed":
            self._run_resumed(record)
            return
        if kind == "step_definitions":
            self.run.segments[-1].step_hashes = _hashes(record)
            return
        if kind == "run_finished":
            self.run.has_run_finished = True
            self.run.status = _text(record.get("status")) or "unknown"
            self.run.error_type = _text(record.get("error_type"))
            self.run.error = _text(record.get("error"))
            self.stamp(record.get("at"))
            return
        if kind not in STEP_KINDS:
            return  # unknown record types are someone else's additions
        step_id = record.get("step_id")
        if not isinstance(step_id, str):
            self.run.warnings.append(f"line {line}: {kind} without a step_id; skipped")
            return
        step = self.step(step_id)
        iteration = self._rust_iteration(step, kind, record)
        getattr(self, f"_{kind}")(step, record)
        if iteration is not None and step.attempts[-1].iteration is None:
            step.attempts[-1].iteration = iteration
        self.last_abort = kind == "step_error" and step.attempts[-1].action == "abort_pipeline"

    def _rust_iteration(self, step: StepRecord, kind: str,
                        record: dict[str, Any]) -> tuple[int, ...] | None:
        """The loop iteration of a Rust record, which names none (:mod:`.rust_loops`)."""
        if self.run.written_by == "ail-tui" or "iteration" in record:
            return None
        last = step.attempts[-1] if step.attempts else None
        new_attempt = last is None or last.status not in (OPEN, "retried")
        return self.rust_loops.place(step.step_id, kind, _text(record.get("prompt")),
                                     new_attempt)

    def _run_started(self, record: dict[str, Any]) -> None:
        self.run.pipeline_source = _text(record.get("pipeline_source"))
        self.run.project_hash = _text(record.get("project_hash"))
        self.run_started_at = self.stamp(record.get("at"))
        first = self.run.segments[0]
        first.at = self.run_started_at
        first.pipeline_hash = _text(record.get("pipeline_hash"))
        first.step_hashes = _hashes(record)

    def _run_resumed(self, record: dict[str, Any]) -> None:
        """End the current segment (closing its open attempts) and start the next."""
        run = self.run
        self.end_segment()
        run.has_run_finished, run.status = False, "unknown"
        run.error_type = run.error = None
        self.last_abort = False
        run.segments.append(Segment(len(run.segments), self.stamp(record.get("at")),
                                    _text(record.get("pipeline_hash")), _hashes(record)))

    def end_segment(self) -> None:
        """Note how the current segment ended and close its open attempts: ``failed`` or
        ``cancelled`` after ``run_finished``, else ``interrupted``."""
        run = self.run
        if not run.has_run_finished:
            run.segments[-1].ended = "interrupted"
            for attempt in self.open_attempts():
                attempt.status = "interrupted"
            return
        run.segments[-1].ended = run.status
        closing = "cancelled" if run.status == "cancelled" else "failed"
        for attempt in self.open_attempts():
            attempt.status = closing
            attempt.error_type = attempt.error_type or run.error_type
            attempt.error = attempt.error or run.error
            if closing == "cancelled":
                attempt.cancelled_by, attempt.reason = "run", run.error or "run cancelled"

    def open_attempts(self) -> list[Attempt]:
        return [a for s in self.run.steps for a in s.attempts if a.status == OPEN]

    def _step_started(self, step: StepRecord, record: dict[str, Any]) -> None:
        attempt = self.attempt(step)
        attempt.prompt = _text(record.get("prompt")) or attempt.prompt
        attempt.iteration = _iteration(record) or attempt.iteration
        self.times(step, record, "launched_at")
        moment = self.stamp(record.get("at"))
        if moment is not None:
            step.started_at, step.times["started_at"] = moment, record["at"]

    def _entry(self, step: StepRecord, record: dict[str, Any]) -> None:
        last = step.attempts[-1] if step.attempts else None
        reused_from = _text(record.get("reused_from"))
        iteration = _iteration(record)
        if reused_from is not None:
            attempt = self.new_attempt(step, "done")
        elif (last is not None and last.status == "failed" and last.action == "continue"
                and last.entry is None and not record.get("response")
                and last.iteration == iteration and last.segment == len(self.run.segments) - 1):
            attempt = last  # a branch's synthetic entry after on_error: continue
        else:
            attempt = self.attempt(step)
            attempt.status = "done"
        attempt.entry = record
        attempt.prompt = _text(record.get("prompt")) or attempt.prompt
        attempt.iteration = iteration or attempt.iteration
        attempt.reused_from = reused_from
        attempt.reconciled = record.get("reconciled") is True
        self.times(step, record, *STAMPS)
        attempt.at = parse_timestamp(_text(record.get("completed_at")) or "")

    def _step_error(self, step: StepRecord, record: dict[str, Any]) -> None:
        attempt = self.attempt(step)
        attempt.action = _text(record.get("on_error_action"))
        attempt.status = "retried" if attempt.action == "retry" else "failed"
        attempt.error_type = _text(record.get("error_type"))
        attempt.error = _text(record.get("error_detail"))
        attempt.iteration = _iteration(record) or attempt.iteration
        attempt.at = self.stamp(record.get("at"))
        if attempt.at is not None and attempt.status == "failed":
            step.completed_at, step.times["completed_at"] = attempt.at, record["at"]

    def _step_cancelled(self, step: StepRecord, record: dict[str, Any]) -> None:
        attempt = self.attempt(step)
        attempt.status = "cancelled"
        attempt.cancelled_by = _text(record.get("cancelled_by"))
        attempt.reason = _text(record.get("reason"))
        attempt.iteration = _iteration(record) or attempt.iteration
        attempt.at = self.stamp(record.get("at"))
        self.times(step, record, "launched_at")
        if attempt.at is not None:
            step.completed_at, step.times["completed_at"] = attempt.at, record["at"]

    def failed_in_child(self, attempts: list[Attempt]) -> list[Attempt]:
        """Rust sub-pipeline steps left open whose child run is there failed in it (a
        default abort writes nothing): they close as failed. Returns the others."""
        left = []
        for attempt in attempts:
            child = child_run(self.run.path, self.run.pipeline_source, attempt.prompt)
            if child is None:
                left.append(attempt)
                continue
            attempt.status = "failed"
            attempt.error = f"its sub-pipeline run {child} ended without a result"
            self.last_abort = True
        return left

    def finish(self, mtime: float | None, live: bool, recorded: str | None = None) -> None:
        run = self.run
        if live and not run.has_run_finished:
            run.status = "running"  # its open attempts stay running too
        else:
            still_open = self.open_attempts()
            if recorded is None and run.written_by != "ail-tui" and not run.torn_tail:
                still_open = self.failed_in_child(still_open)
            self.end_segment()
            if not run.has_run_finished:
                if recorded in ("completed", "failed"):
                    run.status = recorded  # ail.db's: Rust keeps a run's status only there
                    if recorded == "failed":
                        for attempt in still_open:  # a default-abort failure
                            attempt.status = "failed"
                elif (still_open or run.torn_tail or not run.records
                        or run.written_by == "ail-tui"):
                    run.status = "interrupted"
                elif self.last_abort:
                    run.status = "failed"
                else:
                    run.status = "completed"
        run.segments[-1].ended = run.status
        run.has_timestamps = self.first is not None
        if run.has_timestamps:
            run.started_at = self.run_started_at or self.first
            run.finished_at = self.last
        else:
            run.started_at = run.finished_at = mtime


MAX_TURN_LOG_BYTES = 512 * 2**20
"""Turn logs are read up to 512 MiB (and only from regular files)."""


def read_run(path: str | os.PathLike[str], *, times: bool = True) -> RunRecord:
    """Rebuild a run from a JSONL turn log; raise ``OSError`` when it cannot be read.

    ``times=False``: no time is read (a resume needs the records and how the run ended,
    not when things happened), which is quicker.
    """
    source = Path(path)
    run = RunRecord(run_id=source.stem, path=source)
    try:
        data = read_file_bytes(source, MAX_TURN_LOG_BYTES, "turn logs")
    except FileReadError as exc:
        raise OSError(str(exc)) from None
    lines = data.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    builder = _Builder(run, times=times)
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
    live = not run.has_run_finished and is_being_written(source)
    # Our runs always end with run_finished: without it one crashed, whatever ail.db says.
    recorded = (None if run.has_run_finished or live or run.written_by == "ail-tui"
                else recorded_end(source))
    builder.finish(mtime, live=live, recorded=recorded)
    return run
