"""Runs whose JSONL never reached ``ail.db`` are added to it (:mod:`ail_tui.turnlog.backfill`):
by the mirror's rules, once, never while they may still be written, never from a log
that cannot be read."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from stub_runs import rows, stub_run
from turn_records import RUN_STARTED, at, entry, started, ts, write
from waiting import wait_for

from ail_tui.turnlog import backfill as backfill_module
from ail_tui.turnlog.backfill import SETTLE_SECONDS, backfill
from ail_tui.turnlog.liveness import hold
from ail_tui.turnlog.reader import read_run
from ail_tui.turnlog.sqlite_mirror import connect, ingest

ONE_STEP = 'version: "1"\npipeline:\n  - id: lint\n    prompt: "lint the walrus"\n'
FINISHED = {"at": ts(9), "status": "completed", "type": "run_finished"}


def _old(path: Path) -> Path:
    """``path`` as left alone long ago (past the settling time)."""
    past = time.time() - SETTLE_SECONDS - 60
    os.utime(path, (past, past))
    return path


def _past_run(runs: Path, name: str, *extra: dict[str, Any], tail: str = "") -> Path:
    runs.mkdir(exist_ok=True)
    records = [{**RUN_STARTED, "at": ts(0)}, started("lint", "lint it", at=ts(1)),
               entry("lint", prompt="lint it", response="walrus ok", cost_usd=0.25,
                     completed_at=ts(5)), *extra]
    return _old(write(runs, records, name, tail=tail))


def test_a_finished_run_missing_from_the_index_is_added_once(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _past_run(runs, "old", entry("review", cost_usd=0.5, completed_at=ts(8)), FINISHED)
    db = tmp_path / "ail.db"
    connect(db).close()

    assert backfill(db) == ["old"]
    assert backfill(db) == []  # idempotent: nothing is added twice
    assert rows(db, "SELECT run_id, pipeline_source, started_at, completed_at, "
                     "total_cost_usd, status, project_hash FROM sessions") == [
        ("old", "/w/p.ail.yaml", round(at(0) * 1000), round(at(9) * 1000), 0.75,
         "completed", "5d41")]
    assert rows(db, "SELECT step_id, event_type, recorded_at FROM steps ORDER BY id") == [
        ("unknown", "run_started", round(at(0) * 1000)),
        ("lint", "step_started", round(at(1) * 1000)),
        ("lint", "step_completed", round(at(5) * 1000)),
        ("review", "step_completed", round(at(8) * 1000))]
    assert rows(db, "SELECT DISTINCT run_id FROM traces_fts WHERE traces_fts MATCH 'walrus'"
                 ) == [("old",)]


@pytest.mark.parametrize(("ours", "theirs"), [("break", "completed"), ("aborted", "failed"),
                                              ("cancelled", "failed")])
def test_an_added_run_gets_the_status_rust_knows(tmp_path: Path, ours: str,
                                                 theirs: str) -> None:
    _past_run(tmp_path / "runs", "r", {"at": ts(9), "status": ours, "type": "run_finished"})
    db = tmp_path / "ail.db"
    assert backfill(db) == ["r"]
    assert rows(db, "SELECT status FROM sessions") == [(theirs,)]


def test_runs_already_in_the_index_are_left_alone(tmp_path: Path) -> None:
    _past_run(tmp_path / "runs", "known", FINISHED)
    db = tmp_path / "ail.db"
    conn = connect(db)
    ingest(conn, "known", [RUN_STARTED])
    conn.close()

    assert backfill(db) == []
    assert rows(db, "SELECT count(*) FROM steps") == [(1,)]


def test_a_run_still_being_written_is_not_added(tmp_path: Path) -> None:
    log = _past_run(tmp_path / "runs", "live")
    fd = os.open(log, os.O_RDONLY)
    hold(fd)  # its writer is alive
    try:
        assert backfill(tmp_path / "ail.db") == []
        assert not (tmp_path / "ail.db").exists()  # nothing to add: the index is not touched
    finally:
        os.close(fd)
    assert backfill(tmp_path / "ail.db") == ["live"]  # it ended without run_finished
    assert rows(tmp_path / "ail.db", "SELECT status FROM sessions") == [("running",)]


def test_a_log_changed_just_now_waits_for_its_own_mirror(tmp_path: Path) -> None:
    log = _past_run(tmp_path / "runs", "fresh", FINISHED)
    log.touch()
    assert backfill(tmp_path / "ail.db") == []
    _old(log)
    assert backfill(tmp_path / "ail.db") == ["fresh"]


def test_unreadable_and_corrupt_logs_are_skipped(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    _past_run(runs, "torn", FINISHED, tail='{"step_id": "x", "res')  # a crash mid-write
    for name, garbage in (("garbled", b"not json\n"), ("array", b"[1, 2]\n"),
                          ("binary", b"\xff\xfe{}\n")):
        log = _past_run(runs, name)
        lines = log.read_bytes().splitlines(keepends=True)
        log.write_bytes(lines[0] + garbage + b"".join(lines[1:]))
        _old(log)
    _old(write(runs, [], "empty"))
    (runs / "folder.jsonl").mkdir()
    (runs / "dangling.jsonl").symlink_to(runs / "nowhere")
    big = _past_run(runs, "big", FINISHED, tail="\n" * 4096)
    monkeypatch.setattr(backfill_module, "MAX_TURN_LOG_BYTES", big.stat().st_size - 1)

    assert backfill(tmp_path / "ail.db") == ["torn"]
    assert rows(tmp_path / "ail.db", "SELECT run_id, status FROM sessions") == [
        ("torn", "completed")]


def test_an_index_that_cannot_be_opened_adds_nothing_and_raises_nothing(
        tmp_path: Path) -> None:
    _past_run(tmp_path / "runs", "r", FINISHED)
    (tmp_path / "ail.db").write_bytes(b"this is not a database" * 100)
    assert backfill(tmp_path / "ail.db") == []


def _run(tmp_path: Path) -> Path:
    return stub_run(tmp_path, ONE_STEP, "tidy")


def test_a_mirrored_run_has_the_runs_the_index_lacks_added(tmp_path: Path) -> None:
    """Rust ``ail logs`` then lists both, the earlier run by its own start time."""
    _past_run(tmp_path / "runs", "before-the-mirror", FINISHED)
    log = _run(tmp_path)
    db = tmp_path / "ail.db"

    wait_for(lambda: len(rows(db, "SELECT run_id FROM sessions")) == 2, 30,
             "the earlier run in ail.db")
    assert rows(db, "SELECT run_id, status FROM sessions ORDER BY started_at DESC") == [
        (log.stem, "completed"), ("before-the-mirror", "completed")]
    assert read_run(tmp_path / "runs" / "before-the-mirror.jsonl").status == "completed"
