"""A run whose log has no closing record takes its status from the project's ``ail.db``
(where the Rust ``ail`` keeps it, brief §9): a failed Rust run reads as failed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from turn_records import RUN_STARTED, entry, started, write

from ail_tui.turnlog.paths import project_db, runs_dir
from ail_tui.turnlog.reader import read_run
from ail_tui.turnlog.sqlite_mirror import connect
from ail_tui.turnlog.store import list_runs

RUST_ID = "0b8c1f2e-1d2a-4c1b-9a63-1f3e2d4c5b6a"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    work.mkdir()
    runs_dir(work).mkdir(parents=True)
    return work


def rust_session(project: Path, run_id: str, status: str) -> None:
    """The session row the Rust ``ail`` keeps for a run (``finish_session`` when it ended)."""
    conn = connect(project_db(project))
    conn.execute("INSERT INTO sessions (run_id, pipeline_source, started_at, status, "
                 "project_hash) VALUES (?, '/w/p.ail.yaml', 1, ?, '5d41')", (run_id, status))
    conn.close()


def rust_log(project: Path, *records: dict[str, object]) -> Path:
    return write(runs_dir(project), [RUN_STARTED, *records], RUST_ID)


def test_a_rust_run_that_failed_after_its_last_entry_reads_as_failed(project: Path) -> None:
    log = rust_log(project, entry("a", response="fine"))
    assert read_run(log).status == "completed"  # nothing in the JSONL says otherwise
    rust_session(project, RUST_ID, "failed")
    assert read_run(log).status == "failed"
    [summary] = list_runs(project)
    assert summary.status_text.startswith("✗ failed")


def test_a_default_abort_failure_fails_its_open_step(project: Path) -> None:
    log = rust_log(project, entry("a"), started("b"))
    rust_session(project, RUST_ID, "running")  # Rust's, for a run that crashed: not taken
    assert read_run(log).status == "interrupted"
    conn = connect(project_db(project))
    conn.execute("UPDATE sessions SET status = 'failed'")
    conn.close()
    run = read_run(log)
    assert run.status == "failed"
    assert [s.status for s in run.steps] == ["done", "failed"]


def test_a_completed_rust_run_with_a_step_left_open_reads_as_completed(project: Path) -> None:
    """e.g. the ``step_started`` Rust leaves behind for a recursive sub-pipeline step."""
    log = rust_log(project, entry("a"), started("b"))
    rust_session(project, RUST_ID, "completed")
    assert read_run(log).status == "completed"


def test_only_a_log_without_its_end_asks_the_index(project: Path) -> None:
    log = rust_log(project, entry("a"))
    project_db(project).write_bytes(b"not sqlite at all" * 64)
    assert read_run(log).status == "completed"  # an unreadable index changes nothing
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(project_db(project)).execute("SELECT * FROM sessions")
    project_db(project).unlink()
    rust_session(project, RUST_ID, "failed")
    assert read_run(log).status == "failed"
    write(runs_dir(project), [RUN_STARTED, entry("a"), {
        "at": "2026-04-14T10:00:01.000Z", "status": "cancelled", "type": "run_finished"}],
        RUST_ID)
    assert read_run(log).status == "cancelled"  # its own end wins
