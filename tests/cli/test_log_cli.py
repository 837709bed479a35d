"""`ail-tui log` and `ail-tui logs` after real runs, and on a Rust-written log."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from test_run_headless import ROOT, SAMPLES, _env


def ail(*args: str, home: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ail_tui", *args], capture_output=True,
                          text=True, cwd=cwd, env=_env(home), timeout=60, check=False)


def test_log_shows_the_fail_fast_run_with_its_timeline(tmp_path: Path) -> None:
    ran = ail("run", str(SAMPLES / "fail_fast_demo.ail.yaml"), "--headless", home=tmp_path)
    assert ran.returncode == 1
    shown = ail("log", home=tmp_path)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert out.startswith("ail-log/1\n")
    # The three branches start at once: their turns come in the order the log got them.
    turns = re.findall(r"^## Turn \d — `(\w+)`", out, re.MULTILINE)
    assert sorted(turns) == ["lock_check", "slow_suite", "slower_suite"]
    assert "**Step failed:** Step 'lock_check' shell command timed out after 1 s" in out
    timeline = out.split("Timeline", 1)[1]
    assert "slow_suite   ⊘ cancelled" in timeline and "by lock_check" in timeline  # P3
    listed = ail("logs", "--format", "json", home=tmp_path)
    [run] = json.loads(listed.stdout)
    assert run["status"] == "aborted"
    assert run["steps"] == {"cancelled": 2, "failed": 1}
    as_json = json.loads(ail("log", run["run_id"][:8], "--format", "json",
                             home=tmp_path).stdout)
    assert {s["step_id"]: s["status"] for s in as_json["steps"]} == {
        "lock_check": "failed", "slow_suite": "cancelled", "slower_suite": "cancelled"}
    raw = ail("log", run["run_id"], "--format", "raw", home=tmp_path).stdout
    assert json.loads(raw.splitlines()[0])["type"] == "run_started"


def test_log_of_an_unknown_run_exits_1(tmp_path: Path) -> None:
    shown = ail("log", "nope", home=tmp_path)
    assert shown.returncode == 1
    assert "no run 'nope' found" in shown.stderr
    assert ail("logs", home=tmp_path).stdout == "no runs yet for this directory\n"


def test_log_reads_a_rust_written_file(tmp_path: Path) -> None:
    fixed = {"cost_usd": None, "exit_code": None, "input_tokens": 0, "modified": None,
             "output_tokens": 0, "prompt": "", "response": None, "runner_session_id": None,
             "stderr": None, "stdout": None, "thinking": None, "tool_events": []}
    records = [
        {"pipeline_source": "/w/p.ail.yaml", "project_hash": "5d41", "type": "run_started"},
        {**fixed, "step_id": "a", "prompt": "run a", "response": "stub response",
         "cost_usd": 0.0, "runner_session_id": "stub-session-id",
         "concurrent_group": "cg-7f3a91c2", "launched_at": "2026-04-14T10:00:00.101Z",
         "completed_at": "2026-04-14T10:00:00.130Z"},
        {**fixed, "step_id": "done", "prompt": "join:[a]", "response": "[a]:\nstub response\n"},
    ]
    path = tmp_path / "rust.jsonl"
    path.write_text("".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n"
                            for r in records))
    shown = ail("log", str(path), home=tmp_path)
    assert shown.returncode == 0
    assert "## Turn 1 — `a`" in shown.stdout and "## Turn 2 — `done`" in shown.stdout
    assert "_Cost: $0.0000 | 0in / 0out tokens_" in shown.stdout
    assert "cg-7f3a91c2" in shown.stdout


def test_a_fifo_as_a_turn_log_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "run.jsonl"
    os.mkfifo(fifo)
    opened = ail("--log", str(fifo), home=tmp_path)
    assert opened.returncode == 2
    assert opened.stderr == f"ail-tui: cannot read '{fifo}': is a FIFO, not a regular file\n"
    assert ail("log", str(fifo), home=tmp_path).returncode == 1
