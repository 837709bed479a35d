"""Reading and pruning the project's ``ail.db`` (written by :mod:`.sqlite_mirror` and by
the Rust ``ail``): a run's recorded status, full-text search, deleting a run's rows.

Reads open the index read-only and never create it; a missing or unreadable index reads
as holding nothing.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from ail_tui.turnlog.paths import db_beside
from ail_tui.turnlog.sqlite_mirror import BUSY_SECONDS

READ_WAIT = 1.0
"""How long a read waits for a writer that holds the index."""


@contextlib.contextmanager
def _reading(db: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{quote(str(db))}?mode=ro", uri=True, timeout=READ_WAIT)
    try:
        yield conn
    finally:
        conn.close()


def recorded_end(log: Path) -> str | None:
    """How ``ail.db`` says the run of ``log`` ended, ``completed`` or ``failed`` (Rust
    keeps a run's status only there); None when it holds no end for it."""
    db = db_beside(log)
    if db is None or not db.is_file():
        return None
    try:
        with _reading(db) as conn:
            row = conn.execute("SELECT status FROM sessions WHERE run_id = ?",
                               (log.stem,)).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row and row[0] in ("completed", "failed") else None


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def matching_runs(db: Path, text: str) -> set[str]:
    """The runs whose prompts, responses or thinking match ``text`` in ``traces_fts``.

    ``text`` is an FTS5 query, as Rust's ``ail logs --query`` takes it (``a b``: both
    words; ``"a b"``: the phrase; ``a OR b``; ``pre*``); text that is not a valid query
    (``don't``, ``a-b``) is searched as one phrase.
    """
    if not db.is_file():
        return set()
    sql = "SELECT DISTINCT run_id FROM traces_fts WHERE traces_fts MATCH ?"
    with _reading(db) as conn:
        try:
            rows = conn.execute(sql, (text,)).fetchall()
        except sqlite3.OperationalError as exc:
            if "fts5" not in str(exc) and "syntax" not in str(exc):
                raise
            rows = conn.execute(sql, (_phrase(text),)).fetchall()
    return {row[0] for row in rows if isinstance(row[0], str)}


def session_ids(db: Path) -> set[str]:
    """Every run the index has a session for."""
    if not db.is_file():
        return set()
    try:
        with _reading(db) as conn:
            return {row[0] for row in conn.execute("SELECT run_id FROM sessions")}
    except sqlite3.Error:
        return set()


def delete_rows(db: Path, run_id: str) -> int:
    """Remove every row of ``run_id`` from the index, its full-text entries too, in one
    transaction; the number of rows removed. Raises ``sqlite3.Error``."""
    if not db.is_file():
        return 0
    conn = sqlite3.connect(db, timeout=BUSY_SECONDS, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT INTO traces_fts(traces_fts, rowid, run_id, step_id, content) "
                         "SELECT 'delete', rowid, run_id, step_id, content FROM traces "
                         "WHERE run_id = ?", (run_id,))
            removed = 0
            for table in ("run_events", "metadata", "traces", "steps", "sessions"):
                removed += conn.execute(f"DELETE FROM {table} WHERE run_id = ?",
                                        (run_id,)).rowcount
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()
    return removed
