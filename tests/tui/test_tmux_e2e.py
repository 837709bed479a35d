"""The real program in a real terminal: tmux types keys and reads the screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed (.ci/run installs it)")

VALID = """version: "1"
pipeline:
  - id: quick
    async: true
    context: {shell: "echo quick done"}
  - id: slow
    async: true
    context: {shell: "sleep 30"}
  - id: all
    action: join
    depends_on: [quick, slow]
"""
INVALID = VALID.replace("action: join", "action: jion")


class Tmux:
    """One tmux server of our own, one window running the program."""

    def __init__(self, tmp_path: Path) -> None:
        self.socket = f"ail-e2e-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp_path

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, check=False, timeout=10)
        return done.stdout

    def start(self, command: str) -> None:
        self.tmux("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "30", command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "e2e")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "e2e", *keys)

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared on screen:\n{screen}")

    def alive(self) -> bool:
        return "e2e" in self.tmux("list-sessions", "-F", "#{session_name}")

    def close(self) -> None:
        self.tmux("kill-server")


def test_edit_save_validate_run_cancel_quit(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.ail.yaml"
    pipeline.write_text(VALID)
    env = {
        "AIL_HOME": str(tmp_path / "home"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH"))
                                      if p),
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{k}='{v}'" for k, v in env.items())
    term = Tmux(tmp_path)
    try:
        term.start(f"cd '{tmp_path}' && env {exports} '{sys.executable}' -m ail_tui "
                   "p.ail.yaml --stub-response ok")
        term.wait_for("✓ valid")
        assert "slow" in term.screen()

        pipeline.write_text(INVALID)
        screen = term.wait_for("✗ invalid")
        assert "p.ail.yaml:10:13" in term.wait_for("p.ail.yaml:10:13")
        assert "unknown action 'jion'" in screen or "jion" in term.screen()

        pipeline.write_text(VALID)
        term.wait_for("✓ valid")

        term.keys("r")
        term.wait_for("running")
        term.wait_for("✓ done")  # quick finished while slow still runs
        term.keys("c")
        screen = term.wait_for("cancelled", timeout=10)
        assert "⊘" in screen

        term.keys("q")
        deadline = time.monotonic() + 10
        while term.alive() and "$" not in term.screen().strip()[-2:]:
            assert time.monotonic() < deadline, term.screen()
            time.sleep(0.1)
    finally:
        term.close()
    assert not subprocess.run(["pgrep", "-f", f"sleep 30.*{tmp_path}"], check=False,
                              capture_output=True).stdout
