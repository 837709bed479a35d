"""The ``ail.db`` mirror (brief §9): its schema, what each record makes of it, what the
Rust ``ail``'s queries read back, and that a mirror that cannot be written never stops a
run."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from stub_runs import headless_after, rows, stub_run
from turn_records import RUN_STARTED, entry, error, started

from ail_tui.turnlog import sqlite_mirror
from ail_tui.turnlog.ail_db import matching_runs
from ail_tui.turnlog.paths import project_hash
from ail_tui.turnlog.reader import read_run
from ail_tui.turnlog.run_log import RunLog
from ail_tui.turnlog.sqlite_mirror import SqliteMirror, connect, ingest

# PRAGMA table_info rows: (name, type, notnull, default, pk), as the Rust ail makes them.
SPEC_COLUMNS: dict[str, list[tuple[str, str, int, str | None, int]]] = {
    "sessions": [("run_id", "TEXT", 0, None, 1), ("pipeline_source", "TEXT", 0, None, 0),
                 ("started_at", "INTEGER", 0, None, 0), ("completed_at", "INTEGER", 0, None, 0),
                 ("total_cost_usd", "REAL", 0, None, 0), ("status", "TEXT", 0, None, 0),
                 ("project_hash", "TEXT", 0, None, 0)],
    "steps": [("id", "INTEGER", 0, None, 1), ("run_id", "TEXT", 1, None, 0),
              ("step_id", "TEXT", 1, None, 0),
              ("event_type", "TEXT", 1, "'step_completed'", 0), ("prompt", "TEXT", 0, None, 0),
              ("response", "TEXT", 0, None, 0), ("cost_usd", "REAL", 0, None, 0),
              ("input_tokens", "INTEGER", 0, None, 0), ("output_tokens", "INTEGER", 0, None, 0),
              ("thinking", "TEXT", 0, None, 0), ("stdout", "TEXT", 0, None, 0),
              ("stderr", "TEXT", 0, None, 0), ("exit_code", "INTEGER", 0, None, 0),
              ("model", "TEXT", 0, None, 0), ("recorded_at", "INTEGER", 1, None, 0)],
    "traces": [("run_id", "TEXT", 1, None, 0), ("step_id", "TEXT", 1, None, 0),
               ("content", "TEXT", 1, None, 0)],
    "metadata": [("run_id", "TEXT", 1, None, 1), ("key", "TEXT", 1, None, 2),
                 ("value", "TEXT", 0, None, 0)],
    "run_events": [("id", "INTEGER", 0, None, 1), ("run_id", "TEXT", 1, None, 0),
                   ("step_id", "TEXT", 1, None, 0), ("seq", "INTEGER", 1, None, 0),
                   ("event_type", "TEXT", 1, None, 0), ("tool_name", "TEXT", 1, None, 0),
                   ("tool_id", "TEXT", 1, None, 0), ("content_json", "TEXT", 1, None, 0),
                   ("recorded_at", "TEXT", 1, None, 0)],
}

TWO_STEPS = """\
version: "1"
pipeline:
  - id: lint
    prompt: "lint the walrus module"
  - id: review
    prompt: "review it: {{ last_response }}"
"""


def _run(tmp_path: Path, text: str = TWO_STEPS, response: str = "looks tidy") -> Path:
    """Run ``text`` with the stub runner, its log in ``tmp_path/runs``; its log's path."""
    return stub_run(tmp_path, text, response)


def test_the_schema_is_brief_9s_exactly(tmp_path: Path) -> None:
    db = tmp_path / "ail.db"
    connect(db).close()
    for table, columns in SPEC_COLUMNS.items():
        info = [row[1:] for row in rows(db, f"PRAGMA table_info({table})")]
        assert info == columns, table
    fts = rows(db, "SELECT sql FROM sqlite_master WHERE name = 'traces_fts'")[0][0]
    assert "fts5" in fts and "content='traces'" in fts and "content_rowid='rowid'" in fts
    assert [r[1] for r in rows(db, "PRAGMA table_info(traces_fts)")] == [
        "run_id", "step_id", "content"]
    assert rows(db, "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'") == [
        ("traces",)]
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]


def test_an_index_made_without_project_hash_gains_the_column(tmp_path: Path) -> None:
    db = tmp_path / "ail.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE sessions (run_id TEXT PRIMARY KEY, pipeline_source TEXT, "
                 "started_at INTEGER, completed_at INTEGER, total_cost_usd REAL, status TEXT)")
    conn.close()
    connect(db).close()
    assert [r[1:] for r in rows(db, "PRAGMA table_info(sessions)")] == SPEC_COLUMNS["sessions"]


def _ingested(tmp_path: Path, *records: dict[str, Any]) -> Path:
    db = tmp_path / "ail.db"
    conn = connect(db)
    for record in records:
        ingest(conn, "r1", [record])
    conn.close()
    return db


STEP_COLUMNS = ("step_id, event_type, prompt, response, cost_usd, input_tokens, "
                "output_tokens, thinking, stdout, stderr, exit_code, model")


def test_each_record_makes_itsrows(tmp_path: Path) -> None:
    tool = {"content_json": '{"cmd":"ls"}', "event_type": "tool_call", "seq": 0,
            "tool_id": "t1", "tool_name": "Bash"}
    db = _ingested(
        tmp_path, RUN_STARTED, started("a", "do a"),
        entry("a", prompt="do a", response="did a", cost_usd=0.25, input_tokens=3,
              output_tokens=4, thinking="hmm", model="m1", tool_events=[tool]),
        started("b", "run b"),
        entry("b", prompt="run b", stdout="out", stderr="err", exit_code=2),
        error("c", "continue", "no luck"),
        entry("d", prompt="reused", cost_usd=9.0, reused_from="r0"),
        {"type": "step_definitions", "step_hashes": {"a": "x"}})
    [(run_id, source, started_at, completed_at, cost, status, h)] = rows(
        db, "SELECT * FROM sessions")
    assert (run_id, source, completed_at, status, h) == (
        "r1", "/w/p.ail.yaml", None, "running", "5d41")
    assert cost == 0.25  # a and b (no cost); not d, reused from r0
    assert isinstance(started_at, int) and started_at > 1_700_000_000_000
    assert rows(db, f"SELECT {STEP_COLUMNS} FROM steps ORDER BY id") == [
        ("unknown", "run_started", None, None, None, None, None, None, None, None, None, None),
        ("a", "step_started", "do a", None, None, None, None, None, None, None, None, None),
        ("a", "step_completed", "do a", "did a", 0.25, 3, 4, "hmm", None, None, None, "m1"),
        ("b", "step_started", "run b", None, None, None, None, None, None, None, None, None),
        ("b", "step_completed", "run b", None, None, 0, 0, None, "out", "err", 2, None),
        ("c", "step_error", None, None, None, None, None, None, None, None, None, None),
        ("d", "step_completed", "reused", None, 9.0, 0, 0, None, None, None, None, None)]
    assert rows(db, "SELECT step_id, content FROM traces ORDER BY rowid") == [
        ("a", "do a"), ("a", "do a\ndid a\nhmm"), ("b", "run b"), ("b", "run b"),
        ("d", "reused")]
    [event] = rows(db, "SELECT step_id, seq, event_type, tool_name, tool_id, content_json, "
                        "recorded_at FROM run_events")
    assert event[:6] == ("a", 0, "tool_call", "Bash", "t1", '{"cmd":"ls"}')
    assert event[6].isdigit()  # TEXT epoch ms, as Rust writes it
    recorded = [r[0] for r in rows(db, "SELECT recorded_at FROM steps ORDER BY id")]
    assert recorded == sorted(recorded)


@pytest.mark.parametrize(("ours", "theirs"), [
    ("completed", "completed"), ("break", "completed"), ("failed", "failed"),
    ("aborted", "failed"), ("cancelled", "failed")])
def test_the_end_sets_a_status_rust_knows(tmp_path: Path, ours: str, theirs: str) -> None:
    db = _ingested(tmp_path, RUN_STARTED, entry("a"),
                   {"at": "2026-04-14T10:00:01.000Z", "status": ours, "type": "run_finished"})
    [(status, started_at, completed_at)] = rows(
        db, "SELECT status, started_at, completed_at FROM sessions")
    assert status == theirs and completed_at >= started_at
    assert rows(db, "SELECT count(*) FROM steps") == [(2,)]  # no row for run_finished


def test_a_resume_sets_the_session_running_again(tmp_path: Path) -> None:
    finished = {"status": "failed", "type": "run_finished"}
    db = _ingested(tmp_path, RUN_STARTED, error("a", "abort_pipeline"), finished,
                   {"type": "run_resumed"})
    assert rows(db, "SELECT status, completed_at FROM sessions") == [("running", None)]
    db = _ingested(tmp_path, entry("a"), {"status": "completed", "type": "run_finished"})
    assert rows(db, "SELECT status FROM sessions") == [("completed",)]


def test_a_run_is_mirrored_as_it_is_logged(tmp_path: Path) -> None:
    log = _run(tmp_path)
    db = tmp_path / "ail.db"
    run_id = log.stem
    [(source, status, cost, h)] = rows(
        db, "SELECT pipeline_source, status, total_cost_usd, project_hash FROM sessions "
            "WHERE run_id = ?", run_id)
    assert (source, status, h) == (str(tmp_path / "p.ail.yaml"), "completed",
                                   project_hash(tmp_path))
    assert cost == read_run(log).total_cost
    assert rows(db, "SELECT step_id, event_type FROM steps WHERE run_id = ? ORDER BY id",
                 run_id) == [("unknown", "run_started"), ("lint", "step_started"),
                             ("lint", "step_completed"), ("review", "step_started"),
                             ("review", "step_completed")]
    assert matching_runs(db, "walrus") == {run_id}
    assert matching_runs(db, "tidy") == {run_id}  # a response
    assert matching_runs(db, "don't") == set()  # not FTS5 syntax: searched as a phrase
    assert matching_runs(db, "narwhal") == set()


def test_rusts_queries_read_ourrows(tmp_path: Path) -> None:
    """The SELECTs of the Rust ``ail log`` / ``ail logs`` (ail-core/src/logs.rs)."""
    older = _run(tmp_path).stem
    log = _run(tmp_path, response="all fine")
    db = tmp_path / "ail.db"
    # `ail log` without RUN_ID: the newest session of this project.
    assert rows(db, "SELECT run_id FROM sessions WHERE project_hash = ?1 "
                     "ORDER BY started_at DESC LIMIT 1", project_hash(tmp_path)) == [(log.stem,)]
    # `ail logs`: sessions newest first, then each one's steps by recorded_at.
    sessions = rows(db, "SELECT run_id, pipeline_source, started_at, completed_at, "
                         "total_cost_usd, status FROM sessions ORDER BY started_at DESC LIMIT ?1",
                     20)
    assert [(s[0], s[5]) for s in sessions] == [(log.stem, "completed"), (older, "completed")]
    steps = rows(db, "SELECT step_id, event_type, prompt, response, thinking, cost_usd, "
                      "input_tokens, output_tokens, stdout, stderr, exit_code, recorded_at "
                      "FROM steps WHERE run_id = ?1 ORDER BY recorded_at ASC", log.stem)
    assert [s[:2] for s in steps][-1] == ("review", "step_completed")
    assert steps[-1][3] == "all fine"
    # `ail log --follow` stops once the last row's step has a step_completed row.
    last = steps[-1][0]
    assert any(s[0] == last and s[1] in ("step_completed", "step_failed") for s in steps)
    # `ail logs --query`.
    assert rows(db, "SELECT DISTINCT run_id FROM traces_fts WHERE traces_fts MATCH ?1 "
                     "LIMIT 1000", "fine") == [(log.stem,)]


def test_a_mirror_that_cannot_be_written_leaves_the_run_whole(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "ail.db").mkdir()  # no database can be opened there
    caplog.set_level(logging.WARNING, logger="ail_tui.turnlog.sqlite_mirror")
    log = _run(tmp_path)
    run = read_run(log)
    assert run.status == "completed" and [s.status for s in run.steps] == ["done", "done"]
    said = [r.getMessage() for r in caplog.records if "ail.db could not be written" in
            r.getMessage()]
    assert len(said) == 1 and str(log) in said[0]


def test_a_corrupt_index_is_said_once_and_the_run_completes(tmp_path: Path) -> None:
    """The CLI: the run's exit code and events are untouched, stderr says it once."""
    (tmp_path / "p.ail.yaml").write_text(TWO_STEPS, encoding="utf-8")
    done = headless_after(tmp_path, f"""
        from ail_tui.turnlog import paths
        db = paths.project_db({str(tmp_path)!r})
        db.parent.mkdir(parents=True)
        db.write_bytes(b"this is not a database" * 100)
    """)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["type"] == "pipeline_completed"
    assert done.stderr.count("ail.db could not be written") == 1, done.stderr
    [log] = (tmp_path / "home").glob("projects/*/runs/*.jsonl")
    assert read_run(log).status == "completed"


def test_a_locked_index_is_given_up_and_said_once(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """Another writer holds the write lock for the whole run: the run's records reach
    its JSONL, the mirror gives up after its wait and says so."""
    monkeypatch.setattr(sqlite_mirror, "BUSY_SECONDS", 0.1)
    monkeypatch.setattr(sqlite_mirror, "CLOSE_WAIT", 5.0)
    db = tmp_path / "ail.db"
    connect(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        log = _run(tmp_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert read_run(log).status == "completed"
    assert rows(db, "SELECT count(*) FROM sessions") == [(0,)]
    assert sum("ail.db could not be written" in r.getMessage() for r in caplog.records) == 1


RUST_WRITER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=5, isolation_level=None)
print("ready", flush=True)
for i in range(int(sys.argv[2])):
    conn.execute("BEGIN")
    conn.execute("INSERT INTO sessions (run_id, started_at, status) VALUES ('rust', 1, "
                 "'running') ON CONFLICT(run_id) DO NOTHING")
    conn.execute("INSERT INTO steps (run_id, step_id, event_type, recorded_at) "
                 "VALUES ('rust', ?, 'step_completed', ?)", (f"s{i}", int(time.time() * 1000)))
    conn.execute("COMMIT")
"""


def test_writers_in_two_processes_and_two_runs_all_land(tmp_path: Path) -> None:
    db = tmp_path / "ail.db"
    connect(db).close()
    count = 300
    rust = subprocess.Popen([sys.executable, "-c", RUST_WRITER, str(db), str(count)],
                            stdout=subprocess.PIPE, text=True)
    assert rust.stdout is not None and rust.stdout.readline() == "ready\n"
    mirrors = [SqliteMirror(db, f"ours-{n}", tmp_path / f"ours-{n}.jsonl") for n in (1, 2)]

    def feed(mirror: SqliteMirror) -> None:
        mirror.add([RUN_STARTED])
        for i in range(count):
            mirror.add([started(f"s{i}"), entry(f"s{i}", cost_usd=0.5)])
        mirror.add([{"status": "completed", "type": "run_finished"}])
        mirror.close()

    threads = [threading.Thread(target=feed, args=(m,)) for m in mirrors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert rust.wait(60) == 0
    assert [m.failed for m in mirrors] == [None, None]
    assert rows(db, "SELECT run_id, count(*) FROM steps GROUP BY run_id ORDER BY run_id") == [
        ("ours-1", 1 + 2 * count), ("ours-2", 1 + 2 * count), ("rust", count)]
    assert rows(db, "SELECT run_id, status, total_cost_usd FROM sessions WHERE run_id "
                     "LIKE 'ours%' ORDER BY run_id") == [
        ("ours-1", "completed", 0.5 * count), ("ours-2", "completed", 0.5 * count)]


def test_only_records_on_disk_are_mirrored_and_only_from_runs_folders(tmp_path: Path) -> None:
    (tmp_path / "runs" / "r.jsonl").mkdir(parents=True)  # no log can be written there
    lost = RunLog(tmp_path / "runs" / "r.jsonl")
    lost.run_started(None, "h")
    lost.close()
    assert lost.failure is not None and lost.mirror is not None
    assert not (tmp_path / "ail.db").exists()
    elsewhere = RunLog(tmp_path / "elsewhere" / "r.jsonl")
    elsewhere.run_started(None, "h")
    elsewhere.close()
    assert elsewhere.mirror is None and not (tmp_path / "ail.db").exists()
    kept = RunLog(tmp_path / "runs" / "s.jsonl")
    kept.run_started(None, "h")
    kept.close()
    assert rows(tmp_path / "ail.db", "SELECT run_id, status FROM sessions") == [
        ("s", "running")]
