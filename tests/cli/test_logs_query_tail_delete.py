"""`ail-tui logs --query` and `--tail`, `ail-tui delete`, and runs of both implementations
listed with the same statuses in one project folder (brief §9, §11)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from test_run_headless import _env
from turn_records import RUN_STARTED, entry, started, write
from waiting import wait_for

from ail_tui.turnlog.sqlite_mirror import DB_STATUS, connect

PIPELINE = """\
version: "1"
pipeline:
  - id: review
    prompt: "review the otter module"
"""
FAILING = """\
version: "1"
pipeline:
  - id: check
    context:
      shell: "exit 3"
    on_result:
      - exit_code: 0
        action: continue
      - exit_code: any
        action: abort_pipeline
"""
SLOW = "default: {response: ok, delay: 0.05}\nsteps:\n  review: {delay: 60}\n"


def ail(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ail_tui", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=60, check=False)


def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    work = tmp_path / "work"
    work.mkdir()
    (work / "p.ail.yaml").write_text(PIPELINE, encoding="utf-8")
    return work, _env(tmp_path / "home")


def run(work: Path, env: dict[str, str], *options: str, pipeline: str = "p.ail.yaml") -> str:
    """A headless run; its run id."""
    done = ail("run", pipeline, "--headless", *options, cwd=work, env=env)
    return str(json.loads(done.stdout.splitlines()[0])["run_id"])


def db_of(home: Path) -> Path:
    [db] = [*home.glob(".ail/projects/*/ail.db"), *home.glob("projects/*/ail.db")]
    return db


def listed(work: Path, env: dict[str, str], *options: str) -> dict[str, str]:
    shown = ail("logs", "--format", "json", *options, cwd=work, env=env)
    assert shown.returncode == 0, shown.stderr
    return {r["run_id"]: r["status"] for r in json.loads(shown.stdout)}


def test_query_finds_runs_by_their_prompts_and_responses(tmp_path: Path) -> None:
    work, env = project(tmp_path)
    walrus = run(work, env, "--stub-response", "the walrus approves")
    narwhal = run(work, env, "--stub-response", "the narwhal objects")
    assert set(listed(work, env, "--query", "walrus")) == {walrus}
    assert set(listed(work, env, "--query", "narwhal OR walrus")) == {walrus, narwhal}
    assert set(listed(work, env, "--query", "otter")) == {walrus, narwhal}  # the prompt
    text = ail("logs", "--query", "narw*", cwd=work, env=env)
    assert narwhal in text.stdout and walrus not in text.stdout
    none = ail("logs", "--query", "don't", cwd=work, env=env)
    assert (none.returncode, none.stdout) == (0, "no runs match 'don't'\n")


def _lines(process: subprocess.Popen[str]) -> list[str]:
    """The lines ``process`` prints, as they come (read on a thread of their own)."""
    lines: list[str] = []
    assert process.stdout is not None
    stream = process.stdout

    def read() -> None:
        for line in stream:
            lines.append(line)
    threading.Thread(target=read, daemon=True).start()
    return lines


def test_tail_shows_the_last_runs_then_each_new_one(tmp_path: Path) -> None:
    work, env = project(tmp_path)
    first = run(work, env, "--stub-response", "one")
    second = run(work, env, "--stub-response", "two")
    # Ctrl-C as at a terminal: a child inherits an ignored SIGINT (Python then installs
    # no handler for it), and something in a long test session may leave it ignored.
    tail = subprocess.Popen([sys.executable, "-m", "ail_tui", "logs", "--tail", "1"],
                            cwd=work, env=env, stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        lines = _lines(tail)
        wait_for(lambda: lines, 30, "the last run")
        assert second in lines[0] and "✓ completed" in lines[0]
        third = run(work, env, "--stub-response", "three")
        wait_for(lambda: any(third in line and "✓ completed" in line for line in lines), 30,
                 "the new run, completed")
        assert not any(first in line for line in lines)
    finally:
        tail.send_signal(signal.SIGINT)  # Ctrl-C ends it
        try:
            code = tail.wait(30)
        except subprocess.TimeoutExpired:
            tail.kill()
            tail.wait()
            raise AssertionError("logs --tail did not stop on Ctrl-C") from None
    assert code == 130


def test_delete_removes_the_log_and_the_index_rows(tmp_path: Path) -> None:
    work, env = project(tmp_path)
    kept = run(work, env, "--stub-response", "the walrus stays")
    gone = run(work, env, "--stub-response", "the walrus goes")
    [log] = (tmp_path / "home").glob(f"projects/*/runs/{gone}.jsonl")
    db = db_of(tmp_path / "home")
    deleted = ail("delete", gone[:8], cwd=work, env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.startswith(f"deleted run {gone}\n  turn log: {log}\n")
    assert "rows" in deleted.stdout and str(db) in deleted.stdout
    assert not log.exists()
    conn = sqlite3.connect(db)
    for table in ("sessions", "steps", "traces", "run_events", "metadata"):
        assert conn.execute(f"SELECT count(*) FROM {table} WHERE run_id = ?",
                            (gone,)).fetchone() == (0,), table
    assert conn.execute("SELECT DISTINCT run_id FROM traces_fts WHERE traces_fts MATCH "
                        "'walrus'").fetchall() == [(kept,)]
    conn.close()
    assert set(listed(work, env)) == {kept}
    again = ail("delete", gone[:8], cwd=work, env=env)
    assert again.returncode == 1 and "no single run matches" in again.stderr


def test_delete_needs_a_unique_prefix(tmp_path: Path) -> None:
    work, env = project(tmp_path)
    from ail_tui.turnlog.paths import project_hash

    runs = tmp_path / "home" / "projects" / project_hash(work) / "runs"
    runs.mkdir(parents=True)
    for run_id in ("aaaa1111", "aaaa2222"):
        write(runs, [RUN_STARTED, entry("a")], run_id)
    refused = ail("delete", "aaaa", cwd=work, env=env)
    assert refused.returncode == 1 and "no single run matches 'aaaa'" in refused.stderr
    assert set(listed(work, env)) == {"aaaa1111", "aaaa2222"}
    deleted = ail("delete", "aaaa2", cwd=work, env=env)
    assert deleted.returncode == 0 and "turn log:" in deleted.stdout  # no ail.db: 0 rows
    assert set(listed(work, env)) == {"aaaa1111"}


def test_delete_refuses_a_live_run(tmp_path: Path) -> None:
    work, env = project(tmp_path)
    (work / "slow.yaml").write_text(SLOW, encoding="utf-8")
    running = subprocess.Popen(
        [sys.executable, "-m", "ail_tui", "run", "p.ail.yaml", "--headless",
         "--stub-script", "slow.yaml"], cwd=work, env=env, stdout=subprocess.PIPE, text=True)
    try:
        lines = _lines(running)
        wait_for(lambda: any('"step_started"' in line for line in lines), 30, "the step")
        run_id = json.loads(lines[0])["run_id"]
        refused = ail("delete", run_id, cwd=work, env=env)
        assert refused.returncode == 1 and "still running" in refused.stderr
        assert listed(work, env) == {run_id: "running"}
    finally:
        running.send_signal(signal.SIGTERM)
        running.wait(30)


def _rust_run(home: Path, work: Path) -> str:
    """A run the Rust ``ail`` recorded as failed: its JSONL (no closing record; its last
    step's start left open) and its rows in ``ail.db`` (as ail-core writes them)."""
    from ail_tui.turnlog.paths import project_hash

    run_id = "0b8c1f2e-1d2a-4c1b-9a63-1f3e2d4c5b6a"
    directory = home / ".ail" / "projects" / project_hash(work)
    records: list[dict[str, Any]] = [RUN_STARTED, started("a", "do a"),
                                     entry("a", prompt="do a", response="did a"),
                                     started("b", "do b")]
    (directory / "runs").mkdir(parents=True)
    write(directory / "runs", records, run_id)
    conn = connect(directory / "ail.db")
    conn.execute("INSERT INTO sessions (run_id, pipeline_source, started_at, status, "
                 "project_hash) VALUES (?, '/w/p.ail.yaml', 1, 'running', ?)",
                 (run_id, project_hash(work)))
    for n, record in enumerate(records):
        conn.execute("INSERT INTO steps (run_id, step_id, event_type, prompt, response, "
                     "recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (run_id, record.get("step_id", "unknown"),
                      record.get("type", "step_completed"), record.get("prompt"),
                      record.get("response"), 1 + n))
    conn.execute("UPDATE sessions SET status = 'failed', completed_at = 9 WHERE run_id = ?",
                 (run_id,))
    conn.close()
    return run_id


def test_both_implementations_runs_list_with_the_same_statuses(tmp_path: Path) -> None:
    """Rust honours ``HOME`` (not ``AIL_HOME``): ours and Rust's runs share ``ail.db``."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "p.ail.yaml").write_text(PIPELINE, encoding="utf-8")
    (work / "bad.ail.yaml").write_text(FAILING, encoding="utf-8")
    home = tmp_path / "home"
    env = {k: v for k, v in _env(home).items() if k != "AIL_HOME"} | {"HOME": str(home)}
    rust = _rust_run(home, work)
    ours_ok = run(work, env, "--stub-response", "fine")
    ours_bad = run(work, env, pipeline="bad.ail.yaml")
    statuses = listed(work, env)
    assert statuses == {rust: "failed", ours_ok: "completed", ours_bad: "aborted"}
    conn = sqlite3.connect(db_of(home))
    # What the Rust `ail logs` prints for each (ORDER BY started_at DESC, as it reads them).
    theirs = dict(conn.execute("SELECT run_id, status FROM sessions ORDER BY started_at DESC"))
    assert theirs == {run_id: DB_STATUS.get(status, status)
                      for run_id, status in statuses.items()}
    # `ail log ID` reads a run's rows by recorded_at: our run's turn is there.
    rows = conn.execute("SELECT step_id, event_type, response FROM steps WHERE run_id = ?1 "
                        "ORDER BY recorded_at ASC", (ours_ok,)).fetchall()
    conn.close()
    assert rows[-1] == ("review", "step_completed", "fine")
    shown = ail("log", rust, cwd=work, env=env)
    assert "## Turn 1 — `a`" in shown.stdout and "**Step failed:**" in shown.stdout
