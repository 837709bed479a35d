"""`ail-tui log --follow`: a running run's turns as they finish, until it ends."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from test_run_headless import _env
from waiting import wait_for

PIPELINE = """\
version: "1"
pipeline:
  - id: plan
    prompt: "plan the otter release"
  - id: build
    prompt: "build it"
  - id: ship
    prompt: "ship it"
"""
SCRIPT = """\
default: {response: "ok", delay: 0.05}
steps:
  plan: {response: "the plan"}
  build: {response: "built", delay: 3}
"""


def ail(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ail_tui", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=60, check=False)


def start(*args: str, cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    """``ail-tui ARGS`` in the background, and the lines it prints as they come."""
    process = subprocess.Popen([sys.executable, "-m", "ail_tui", *args], cwd=cwd, env=env,
                               stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    stream = process.stdout
    assert stream is not None

    def read() -> None:
        for line in stream:
            lines.append(line)
    threading.Thread(target=read, daemon=True).start()
    return process, lines


def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    work = tmp_path / "work"
    work.mkdir()
    (work / "p.ail.yaml").write_text(PIPELINE, encoding="utf-8")
    (work / "script.yaml").write_text(SCRIPT, encoding="utf-8")
    return work, _env(tmp_path / "home")


def test_follow_prints_turns_as_they_finish_until_the_run_ends(tmp_path: Path) -> None:
    work, env = project(tmp_path)
    running, events = start("run", "p.ail.yaml", "--headless", "--stub-script",
                            "script.yaml", cwd=work, env=env)
    try:
        wait_for(lambda: events, 30, "the run's first event")
        run_id = json.loads(events[0])["run_id"]
        follow, lines = start("log", run_id[:8], "--follow", cwd=work, env=env)
        wait_for(lambda: "## Turn 1 — `plan`\n" in lines, 30, "the first turn")
        assert running.poll() is None, "the run was over before its first turn was shown"
        assert not any("`build`" in line for line in lines)  # still running
        assert follow.wait(60) == 0
        assert running.wait(30) == 0
    finally:
        if running.poll() is None:
            running.kill()
            running.wait(10)
    shown = ail("log", run_id, cwd=work, env=env)
    assert "".join(lines) == shown.stdout  # the same document, turn by turn
    assert "\nbuilt\n" in shown.stdout and "## Turn 3 — `ship`" in shown.stdout


def test_follow_of_an_ended_run_prints_it_and_exits(tmp_path: Path) -> None:
    work, env = project(tmp_path)
    ran = ail("run", "p.ail.yaml", "--headless", "--stub-response", "done", cwd=work, env=env)
    assert ran.returncode == 0, ran.stderr
    followed = ail("log", "--follow", cwd=work, env=env)
    assert followed.returncode == 0
    assert followed.stdout == ail("log", cwd=work, env=env).stdout
    raw = ail("log", "--follow", "--format", "raw", cwd=work, env=env)
    assert raw.stdout == ail("log", "--format", "raw", cwd=work, env=env).stdout


def test_follow_of_an_unknown_run_exits_1(tmp_path: Path) -> None:
    work, env = project(tmp_path)
    missing = ail("log", "nope", "--follow", cwd=work, env=env)
    assert missing.returncode == 1 and "no run 'nope' found" in missing.stderr
    assert ail("log", "--follow", cwd=work, env=env).returncode == 1  # no runs at all
