"""A run's turn log: the records of brief §9 and ours (decisions F3), written durably,
and mirrored into the project's ``ail.db`` once on disk (:mod:`.sqlite_mirror`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ail_tui.credentials import SECRETS
from ail_tui.turnlog.entry import TurnEntry
from ail_tui.turnlog.paths import db_beside
from ail_tui.turnlog.sqlite_mirror import SqliteMirror
from ail_tui.turnlog.timestamps import format_timestamp
from ail_tui.turnlog.writer import TurnLogWriter


def _stamp(at: float | None) -> str:
    return format_timestamp(time.time() if at is None else at)


class RecordWriter(Protocol):
    """Where a run's records go: its JSONL file (:class:`TurnLogWriter`) or elsewhere."""

    failed: str | None
    """Why a record was lost (the first failure), or None while every write landed."""

    def write(self, record: dict[str, Any], *, defer: bool = False) -> None:
        """Append ``record`` (``defer``: it may wait for the next write or flush)."""
        ...

    def flush(self) -> None:
        """Deliver every record written so far."""
        ...

    def close(self) -> None:
        """Deliver what is left; later writes start again."""
        ...


class RunLog:
    """Writes one run's records; a ``None`` path makes every write a no-op. A log in a
    project's ``runs`` folder is mirrored into the ``ail.db`` beside it."""

    def __init__(self, path: Path | None, *, sync: bool = True,
                 on_failure: Callable[[str], None] | None = None,
                 writer: RecordWriter | None = None) -> None:
        """``on_failure`` is told why a record could not be written (the first time); the
        mirror's failures never reach it (they do not stop the run). A ``writer`` takes
        the records instead of the file at ``path`` (and its mirror): a run whose log is
        written on another machine."""
        self.path = path
        db = db_beside(path) if path is not None and writer is None else None
        self.mirror = SqliteMirror(db, path.stem, path) if db and path else None
        self._writer: RecordWriter | None = writer or (
            TurnLogWriter(path, sync=sync, on_durable=self.mirror.add if self.mirror else None)
            if path is not None else None)
        self._on_failure = on_failure

    def _write(self, record: dict[str, Any], defer: bool = False) -> None:
        if self._writer is None:
            return
        self._writer.write(SECRETS.redact_value(record), defer=defer)
        self._check()

    def _check(self) -> None:
        if self._writer is not None and self._writer.failed is not None and (
                self._on_failure is not None):
            tell, self._on_failure = self._on_failure, None
            tell(self._writer.failed)

    def append(self, record: dict[str, Any], *, defer: bool = False) -> None:
        """Write a record made elsewhere (a run driven on another machine)."""
        self._write(record, defer)

    def flush(self) -> None:
        """Put every record written so far on disk (one sync for all of them)."""
        if self._writer is not None:
            self._writer.flush()
            self._check()

    @property
    def failure(self) -> str | None:
        """Why writing failed, when it did (writes never raise)."""
        return self._writer.failed if self._writer is not None else None

    def run_started(self, pipeline_source: str | None, project_hash: str,
                    at: float | None = None, *, pipeline_hash: str | None = None) -> None:
        """The first line of every run (ours adds ``at``: when it happened, else now; and
        the pipeline file's content hash, D2)."""
        record: dict[str, Any] = {"at": _stamp(at), "pipeline_source": pipeline_source,
                                  "project_hash": project_hash, "type": "run_started"}
        if pipeline_hash is not None:
            record["pipeline_hash"] = pipeline_hash
        self._write(record)

    def run_resumed(self, at: float | None = None, *, pipeline_hash: str | None = None) -> None:
        """The run goes on in this log after it stopped (ours, D1)."""
        record: dict[str, Any] = {"at": _stamp(at), "type": "run_resumed"}
        if pipeline_hash is not None:
            record["pipeline_hash"] = pipeline_hash
        self._write(record)

    def step_definitions(self, step_hashes: dict[str, str], files_hash: str | None = None,
                         at: float | None = None) -> None:
        """What each step of this run (or of this resumed stretch of it) is: the hash of
        its definition, and of the files the steps read (ours, D2). On disk with the next
        record's sync."""
        record: dict[str, Any] = {"at": _stamp(at), "step_hashes": step_hashes,
                                  "type": "step_definitions"}
        if files_hash is not None:
            record["files_hash"] = files_hash
        self._write(record, defer=True)

    def step_started(self, step_id: str, prompt: str, *, group: str | None = None,
                     launched_at: float | None = None, at: float | None = None,
                     iteration: tuple[int, ...] = (), child_run: str | None = None) -> None:
        """A step's body began (ours adds ``at``, for branches group and launch time,
        inside loops the iteration, for a sub-pipeline its own run's id)."""
        record: dict[str, Any] = {"at": _stamp(at), "prompt": prompt, "step_id": step_id,
                                  "type": "step_started"}
        if child_run is not None:
            record["child_run_id"] = child_run
        if iteration:
            record["iteration"] = list(iteration)
        if group is not None:
            record["concurrent_group"] = group
        if launched_at is not None:
            record["launched_at"] = format_timestamp(launched_at)
        self._write(record)

    def entry(self, entry: TurnEntry, *, defer: bool = False) -> None:
        """A completed step (``defer``: on disk at the next write or :meth:`flush`)."""
        self._write(entry.to_record(), defer)

    def step_error(self, step_id: str, error_type: str, detail: str, action: str,
                   retry_attempt: int | None = None, max_retries: int | None = None,
                   at: float | None = None, iteration: tuple[int, ...] = ()) -> None:
        """A failed attempt that was retried, continued past, or that aborted after retries."""
        record: dict[str, Any] = {"at": _stamp(at), "error_detail": detail,
                                  "error_type": error_type, "on_error_action": action,
                                  "step_id": step_id, "type": "step_error"}
        if iteration:
            record["iteration"] = list(iteration)
        if retry_attempt is not None:
            record["retry_attempt"] = retry_attempt
        if max_retries is not None:
            record["max_retries"] = max_retries
        self._write(record)

    def gate_passed(self, step_id: str, *, at: float | None = None,
                    iteration: tuple[int, ...] = ()) -> None:
        """The run went past a ``pause_for_human`` gate (ours, additive: resume, D1)."""
        record: dict[str, Any] = {"at": _stamp(at), "step_id": step_id, "type": "gate_passed"}
        if iteration:
            record["iteration"] = list(iteration)
        self._write(record)

    def step_cancelled(self, step_id: str, cancelled_by: str, reason: str, *,
                       group: str | None = None, launched_at: float | None = None,
                       at: float | None = None, iteration: tuple[int, ...] = ()) -> None:
        """A cancelled step (ours: Rust's keys plus ``at``; branches add group and launch)."""
        record: dict[str, Any] = {"at": _stamp(at), "cancelled_by": cancelled_by,
                                  "reason": reason, "step_id": step_id,
                                  "type": "step_cancelled"}
        if iteration:
            record["iteration"] = list(iteration)
        if group is not None:
            record["concurrent_group"] = group
        if launched_at is not None:
            record["launched_at"] = format_timestamp(launched_at)
        self._write(record)

    def run_finished(self, status: str, error_type: str | None = None,
                     error: str | None = None, at: float | None = None) -> None:
        """The last line of a run that ended normally (ours)."""
        record: dict[str, Any] = {"at": _stamp(at), "status": status, "type": "run_finished"}
        if error_type is not None:
            record["error_type"] = error_type
        if error is not None:
            record["error"] = error
        self._write(record)

    def close(self) -> None:
        """Close the file, once its records are in ``ail.db`` too (or that failed)."""
        if self._writer is not None:
            self._writer.close()
        if self.mirror is not None:
            self.mirror.close()
