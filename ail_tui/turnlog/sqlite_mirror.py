"""The SQLite mirror of a run's turn log: the project's ``ail.db`` (brief §9).

The Rust ``ail log`` and ``ail logs`` read only this index, so every record that reaches
a run's JSONL is copied into it too: the same schema, the same ingestion rules, WAL.
The JSONL stays the source of truth. Records are handed over once they are on disk and
written by a thread of the mirror's own, so no step waits for SQLite (another process
may hold the database's write lock for a while); only the run's end waits, at most
:data:`CLOSE_WAIT`, so that its status is in the index before the process may exit. A
failure to write the index is said once, on the logger (stderr by default), and never
fails the run.

Ingestion, per record and in one transaction (brief §9, as Rust's ``SqliteProvider``; the
records that come within :data:`GATHER_SECONDS` share one, so a sequence of quick steps
or a burst of branches costs one commit):
the session row is inserted if absent (``running``, ``started_at`` now, its
``pipeline_source`` and ``project_hash`` from the record); a ``steps`` row (``step_id`` or
``unknown``, ``event_type`` = ``type`` or ``step_completed``, same-named columns,
``recorded_at`` now, epoch ms); a ``traces`` row of the record's non-null prompt, response
and thinking joined by ``"\\n"`` (indexed by ``traces_fts``); ``cost_usd`` added to the
session's ``total_cost_usd`` for ``step_completed``/``step_failed`` (not for a result
reused from an earlier run: its cost was spent there); a ``run_events`` row per tool
event. Our run-level records (decisions F3, D1, D2) carry no step and make no step rows
(a last ``unknown`` row would keep Rust's ``ail log --follow``, which stops once the last
row's step has completed, waiting forever): ``run_finished`` sets ``status`` and
``completed_at``, ``run_resumed`` sets the session back to ``running``,
``step_definitions`` is not mirrored.

Status at the end: Rust writes only ``completed`` and ``failed`` (and its readers, the VS
Code extension among them, know no other), so ``break`` reads as ``completed`` (Rust's own
``break`` ends that way) and ``aborted``/``cancelled`` as ``failed`` (Rust records a
killed run as failed). The JSONL keeps the precise status.

Runs that reached their JSONL but not the index (made before the mirror existed, or
whose mirror failed) are added by :mod:`.backfill` whenever a mirror opens the index.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    run_id          TEXT PRIMARY KEY,
    pipeline_source TEXT,
    started_at      INTEGER,
    completed_at    INTEGER,
    total_cost_usd  REAL,
    status          TEXT,
    project_hash    TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          TEXT NOT NULL REFERENCES sessions(run_id),
    step_id         TEXT NOT NULL,
    event_type      TEXT NOT NULL DEFAULT 'step_completed',
    prompt          TEXT,
    response        TEXT,
    cost_usd        REAL,
    input_tokens    INTEGER,
    output_tokens   INTEGER,
    thinking        TEXT,
    stdout          TEXT,
    stderr          TEXT,
    exit_code       INTEGER,
    model           TEXT,
    recorded_at     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS traces (
    run_id  TEXT NOT NULL,
    step_id TEXT NOT NULL,
    content TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS traces_fts USING fts5(
    run_id UNINDEXED,
    step_id UNINDEXED,
    content,
    content='traces',
    content_rowid='rowid'
);
CREATE TRIGGER IF NOT EXISTS traces_ai AFTER INSERT ON traces BEGIN
    INSERT INTO traces_fts(rowid, run_id, step_id, content)
    VALUES (new.rowid, new.run_id, new.step_id, new.content);
END;
CREATE TABLE IF NOT EXISTS metadata (
    run_id  TEXT NOT NULL REFERENCES sessions(run_id),
    key     TEXT NOT NULL,
    value   TEXT,
    PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS run_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    event_type   TEXT NOT NULL,
    tool_name    TEXT NOT NULL,
    tool_id      TEXT NOT NULL,
    content_json TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
);
"""
"""The tables of brief §9, with the column types the Rust ``ail`` gives them."""

BUSY_SECONDS = 5.0
"""How long a write waits for another writer's lock (Rust's own default)."""
GATHER_SECONDS = 0.05
"""How long the mirror lets records gather before it writes them: one transaction for
many steps keeps its cost (and its hold on the write lock) small."""
CLOSE_WAIT = 10.0
"""How long the end of a run waits for its records to reach the index."""
DB_STATUS = {"completed": "completed", "break": "completed", "failed": "failed",
             "aborted": "failed", "cancelled": "failed"}
"""The session status the Rust ``ail`` knows for each ``run_finished`` status."""
RUN_LEVEL = frozenset({"run_finished", "run_resumed", "step_definitions"})


def connect(db: Path) -> sqlite3.Connection:
    """Open (creating when absent) the index at ``db``: WAL, the schema, autocommit mode
    (transactions are explicit). Raises ``sqlite3.Error`` or ``OSError``."""
    db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    conn = sqlite3.connect(db, timeout=BUSY_SECONDS, isolation_level=None,
                           check_same_thread=False)
    try:
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # the JSONL is what must survive a crash
        conn.executescript(SCHEMA)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
        if "project_hash" not in columns:  # an index made by an early Rust ail
            conn.execute("ALTER TABLE sessions ADD COLUMN project_hash TEXT")
    except BaseException:
        conn.close()
        raise
    return conn


def now_ms() -> int:
    """The time as the index keeps it: epoch milliseconds."""
    return time.time_ns() // 1_000_000


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


_STEP_ROW = ("INSERT INTO steps (run_id, step_id, event_type, prompt, response, cost_usd, "
             "input_tokens, output_tokens, thinking, stdout, stderr, exit_code, model, "
             "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_TOOL_ROW = ("INSERT INTO run_events (run_id, step_id, seq, event_type, tool_name, tool_id, "
             "content_json, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


class _Rows:
    """The rows a batch of records makes, written with one statement per table."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.steps: list[tuple[object, ...]] = []
        self.traces: list[tuple[str, str, str]] = []
        self.tools: list[tuple[object, ...]] = []
        self.cost = 0.0
        self.ending: tuple[str, int | None] | None = None  # the last status set, and when

    def add(self, record: dict[str, Any], now: int) -> None:
        kind = _text(record.get("type"))
        if kind == "run_finished":
            self.ending = (DB_STATUS.get(_text(record.get("status")) or "", "failed"), now)
            return
        if kind == "run_resumed":
            self.ending = ("running", None)
            return
        run_id, step_id = self.run_id, _text(record.get("step_id")) or "unknown"
        event_type = kind or "step_completed"
        prompt, response = _text(record.get("prompt")), _text(record.get("response"))
        thinking, cost = _text(record.get("thinking")), _real(record.get("cost_usd"))
        self.steps.append((
            run_id, step_id, event_type, prompt, response, cost,
            _int(record.get("input_tokens")), _int(record.get("output_tokens")), thinking,
            _text(record.get("stdout")), _text(record.get("stderr")),
            _int(record.get("exit_code")), _text(record.get("model")), now))
        content = [part for part in (prompt, response, thinking) if part is not None]
        if content:
            self.traces.append((run_id, step_id, "\n".join(content)))
        if event_type in ("step_completed", "step_failed") and not record.get("reused_from"):
            self.cost += cost or 0.0
        events = record.get("tool_events")
        if isinstance(events, list):
            self.tools.extend(
                (run_id, step_id, _int(e.get("seq")) or 0, _text(e.get("event_type")) or "",
                 _text(e.get("tool_name")) or "", _text(e.get("tool_id")) or "",
                 _text(e.get("content_json")) or "", str(now))
                for e in events if isinstance(e, dict))


def ingest(conn: sqlite3.Connection, run_id: str, records: Sequence[dict[str, Any]], *,
           times: Sequence[int] | None = None, only_new: bool = False) -> bool:
    """Add turn-log records of run ``run_id`` (in log order) to the index by the rules
    above, in one transaction that takes the write lock at once; whether it did.

    ``times``: when each record happened (epoch ms; default: now). ``only_new``: add
    nothing when the index has a session for the run already.
    """
    moments = list(times) if times is not None else [now_ms() for _ in records]
    kept = [(r, t) for r, t in zip(records, moments, strict=True)
            if r.get("type") != "step_definitions"]
    if not kept:
        return False
    rows = _Rows(run_id)
    for record, moment in kept:
        rows.add(record, moment)
    first = kept[0][0]
    conn.execute("BEGIN IMMEDIATE")
    try:
        if only_new and conn.execute("SELECT 1 FROM sessions WHERE run_id = ?",
                                     (run_id,)).fetchone() is not None:
            conn.execute("ROLLBACK")
            return False
        conn.execute(
            "INSERT INTO sessions (run_id, pipeline_source, started_at, status, project_hash) "
            "VALUES (?, ?, ?, 'running', ?) ON CONFLICT(run_id) DO NOTHING",
            (run_id, _text(first.get("pipeline_source")) or _text(first.get("source")),
             rows.steps[0][-1] if rows.steps else kept[0][1], _text(first.get("project_hash"))))
        conn.executemany(_STEP_ROW, rows.steps)
        conn.executemany("INSERT INTO traces (run_id, step_id, content) VALUES (?, ?, ?)",
                         rows.traces)
        conn.executemany(_TOOL_ROW, rows.tools)
        if any(row[2] in ("step_completed", "step_failed") for row in rows.steps):
            conn.execute("UPDATE sessions SET total_cost_usd = COALESCE(total_cost_usd, 0) + ? "
                         "WHERE run_id = ?", (rows.cost, run_id))
        if rows.ending is not None:
            conn.execute("UPDATE sessions SET status = ?, completed_at = ? WHERE run_id = ?",
                         (*rows.ending, run_id))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return True


_STOP = None


class SqliteMirror:
    """Copies one run's records into the index ``db``, on a thread of its own.

    :meth:`add` only queues (the writer calls it once records are on disk);
    :meth:`close` waits, up to :data:`CLOSE_WAIT`, until the queue is written. The first
    failure is kept in :attr:`failed`, said once on the logger (and by :attr:`notice` to
    whoever shows the run), and ends the mirroring of this run. Opening the index has the
    project's runs it lacks added (:func:`~ail_tui.turnlog.backfill.backfill_in_background`).
    """

    def __init__(self, db: Path, run_id: str, log_path: Path) -> None:
        self.db = db
        self.run_id = run_id
        self.log_path = log_path
        self.failed: str | None = None
        """Why the index could not be written, once it could not."""
        self._queue: queue.SimpleQueue[list[dict[str, Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._lock = threading.Lock()

    def add(self, records: Sequence[dict[str, Any]]) -> None:
        """Queue records (in log order) for the index."""
        if self.failed is not None:
            return
        with self._lock:
            if self._thread is None:
                self._closing.clear()
                self._thread = threading.Thread(target=self._work, daemon=True,
                                                name=f"ail-db-{self.run_id[:8]}")
                self._thread.start()
            self._queue.put(list(records))

    def close(self) -> None:
        """Wait until every queued record is in the index (or :data:`CLOSE_WAIT` passed)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._queue.put(_STOP)
            self._closing.set()
        thread.join(CLOSE_WAIT)
        if thread.is_alive():
            self._fail(f"{self.db} stayed locked for {CLOSE_WAIT:g} s")

    def _next(self) -> tuple[list[dict[str, Any]], bool]:
        """The records queued within :data:`GATHER_SECONDS` of the next one (until close()
        comes), and whether it came."""
        records: list[dict[str, Any]] = []
        batch = self._queue.get()
        if batch is not _STOP:
            self._closing.wait(GATHER_SECONDS)
        while batch is not _STOP:
            records.extend(batch)
            try:
                batch = self._queue.get_nowait()
            except queue.Empty:
                return records, False
        return records, True

    def _open(self) -> sqlite3.Connection:
        """Connect to the index, and have the runs it lacks added beside this one."""
        conn = connect(self.db)
        # imported here, not at the top: the backfill builds on this module
        from ail_tui.turnlog.backfill import backfill_in_background

        try:
            backfill_in_background(conn, self.db)
        except BaseException:
            conn.close()
            raise
        return conn

    def _work(self) -> None:
        conn: sqlite3.Connection | None = None
        stopped = False
        try:
            while not stopped:
                records, stopped = self._next()
                if records:
                    conn = conn or self._open()
                    ingest(conn, self.run_id, records)
        except Exception as exc:  # whatever it is, the run goes on without its copy
            self._fail(f"{self.db}: {exc}")
            while not stopped:
                stopped = self._queue.get() is _STOP  # let close() return at once
        finally:
            if conn is not None:
                conn.close()

    @property
    def notice(self) -> str | None:
        """What to tell the user once the index could not be written; None while it could."""
        if self.failed is None:
            return None
        return (f"the run's copy in ail.db could not be written ({self.failed}); Rust's "
                f"`ail log` will not show it complete. Its turn log is: {self.log_path}")

    def _fail(self, why: str) -> None:
        if self.failed is None:
            self.failed = why
            log.warning("ail-tui: %s", self.notice)
