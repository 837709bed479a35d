"""Adding to a project's ``ail.db`` the runs it lacks, so Rust ``ail logs`` lists them.

A run's JSONL in ``runs/`` with no session in the index (made before the mirror existed,
or whose mirror could not write) is ingested by the mirror's rules
(:func:`~ail_tui.turnlog.sqlite_mirror.ingest`: rows, status, total cost), with each
record's own time instead of now. Cheap when nothing is missing: the ``runs/`` listing
against the index's session ids, read without taking its write lock. Idempotent: a run
is added in one transaction, only while the index has no session for it.

A run is left for later while it may still be written or mirrored: its log is locked by
a live writer, or changed within :data:`SETTLE_SECONDS` (its own mirror may still be
finishing). A log that cannot be read, or whose lines (but a torn last one) are not all
JSON objects, is skipped. A run that stopped without ``run_finished`` keeps ``running``,
as its live mirror would have left it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from ail_tui.files import FileReadError, read_file_bytes
from ail_tui.turnlog.ail_db import session_ids
from ail_tui.turnlog.liveness import is_being_written
from ail_tui.turnlog.reader import MAX_TURN_LOG_BYTES
from ail_tui.turnlog.sqlite_mirror import CLOSE_WAIT, connect, ingest
from ail_tui.turnlog.timestamps import parse_timestamp

log = logging.getLogger(__name__)

SETTLE_SECONDS = CLOSE_WAIT + 5.0
"""How long a log must have been left alone before it is added: past its mirror's wait."""
_TIME_KEYS = ("at", "completed_at", "launched_at")

_active: set[Path] = set()
_active_lock = threading.Lock()


def _logs(runs: Path) -> dict[str, Path]:
    try:
        return {p.stem: p for p in runs.iterdir() if p.suffix == ".jsonl" and p.is_file()}
    except OSError:
        return {}


def read_records(path: Path) -> list[dict[str, Any]] | None:
    """The records of the log at ``path`` in order (a torn last line left out); None when
    it cannot be read or another line is not a JSON object."""
    try:
        data = read_file_bytes(path, MAX_TURN_LOG_BYTES, "turn logs")
    except (OSError, FileReadError):
        return None
    lines = [line for line in data.split(b"\n") if line.strip()]
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                break  # a torn last write
            return None
        if not isinstance(record, dict):
            return None
        records.append(record)
    return records


def _moment(record: dict[str, Any]) -> int | None:
    for key in _TIME_KEYS:
        value = record.get(key)
        seconds = parse_timestamp(value) if isinstance(value, str) else None
        if seconds is not None:
            return round(seconds * 1000)
    return None


def record_times(records: list[dict[str, Any]], fallback: int) -> list[int]:
    """When each record happened (epoch ms): its own time, else the one before it, else
    the first known one, else ``fallback``."""
    found = [_moment(record) for record in records]
    last = next((moment for moment in found if moment is not None), fallback)
    times: list[int] = []
    for moment in found:
        last = moment if moment is not None else last
        times.append(last)
    return times


def _settled_mtime(path: Path, now: float) -> int | None:
    """The log's mtime (epoch ms) when it is left alone long enough; None when not."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    if now - mtime < SETTLE_SECONDS or is_being_written(path):
        return None
    return round(mtime * 1000)


def ready_runs(db: Path, known: set[str] | None = None) -> list[tuple[Path, int]]:
    """The logs in the ``runs`` folder beside ``db`` whose run has no session there
    (``known``: the index's run ids, when already read) and that are left alone long
    enough, each with its mtime (epoch ms). The index is only read."""
    logs = _logs(db.parent / "runs")
    if not logs:
        return []
    now = time.time()
    ready: list[tuple[Path, int]] = []
    for run_id in sorted(logs.keys() - (session_ids(db) if known is None else known)):
        mtime = _settled_mtime(logs[run_id], now)
        if mtime is not None:
            ready.append((logs[run_id], mtime))
    return ready


def backfill(db: Path) -> list[str]:
    """Add to the index ``db`` the :func:`ready_runs` it lacks; the ids of those added.
    Never raises: an index that cannot be opened or written ends it quietly (a mirror
    says so for its own run)."""
    ready = ready_runs(db)
    added: list[str] = []
    if not ready:
        return added
    try:
        conn = connect(db)
    except (OSError, sqlite3.Error) as exc:
        log.debug("backfill of %s not started: %s", db, exc)
        return added
    try:
        for path, mtime in ready:
            records = read_records(path)
            if records and ingest(conn, path.stem, records,
                                  times=record_times(records, mtime), only_new=True):
                added.append(path.stem)
    except sqlite3.Error as exc:
        log.debug("backfill of %s stopped: %s", db, exc)
    finally:
        conn.close()
    return added


def backfill_in_background(conn: sqlite3.Connection, db: Path) -> None:
    """When the index ``db`` (open as ``conn``) lacks runs ready to add, run
    :func:`backfill` on a thread of its own, unless one is running; else do nothing more
    than read its run ids."""
    known = {row[0] for row in conn.execute("SELECT run_id FROM sessions")}
    if not ready_runs(db, known):
        return
    with _active_lock:
        if db in _active:
            return
        _active.add(db)

    def work() -> None:
        try:
            backfill(db)
        finally:
            with _active_lock:
                _active.discard(db)

    threading.Thread(target=work, daemon=True, name="ail-db-backfill").start()
