"""A tmux server of a test's own: start the real program, type keys, read the screen."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed (.ci/run installs it)")
"""For tests that drive the real program in tmux."""
ROOT = Path(__file__).resolve().parents[2]


def program(cwd: Path, folder: Path, *args: str, **env: str) -> str:
    """The shell command that starts ``ail-tui ARGS`` in ``cwd``: with ``AIL_HOME`` in
    ``folder``, no user settings (keys and settings as shipped), this checkout
    importable, a colour terminal, and ``env`` on top."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {"AIL_HOME": str(folder / "home"), "AIL_TUI_CONFIG": str(folder / "config.toml"),
           "PYTHONPATH": path, "TERM": "xterm-256color", **env}
    exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
    return (f"cd {shlex.quote(str(cwd))} && env {exports} {shlex.quote(sys.executable)} "
            f"-m ail_tui {shlex.join(args)}")


def shows(screen: str, text: str) -> bool:
    """Whether ``text`` is on ``screen``, runs of spaces counting as one (a table's
    columns are as wide as their values)."""
    return _squeeze(text) in _squeeze(screen)


def _squeeze(text: str) -> str:
    return re.sub(r" {2,}", " ", text)


class Tmux:
    """One tmux server of our own, one window running the program."""

    def __init__(self, tmp_path: Path) -> None:
        self.socket = f"ail-e2e-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp_path

    def tmux(self, *args: str) -> str:
        # os.environ, not the process's own environment: importing readline (pytest
        # does) puts COLUMNS and LINES there, and Textual would take them over the pane's.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, check=False, timeout=10, env=env)
        return done.stdout

    def start(self, command: str, width: int = 120, height: int = 30) -> None:
        self.tmux("new-session", "-d", "-s", "e2e", "-x", str(width), "-y", str(height),
                  command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "e2e")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "e2e", *keys)

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        """The screen once ``text`` is on it (see :func:`shows`)."""
        return self.wait_screen(lambda screen: shows(screen, text), repr(text), timeout)

    def wait_screen(self, holds: Callable[[str], bool], what: str,
                    timeout: float = 20.0) -> str:
        """The screen's text once ``holds`` it (polled until ``timeout``)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if holds(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"never on screen: {what}\n{screen}")

    def settled(self, timeout: float = 5.0) -> str:
        """The screen once it stops changing (two captures 0.2 s apart alike): a screen
        just opened has taken its focus and can take keys."""
        deadline = time.monotonic() + timeout
        last = self.screen()
        while time.monotonic() < deadline:
            time.sleep(0.2)
            now = self.screen()
            if now == last:
                return now
            last = now
        raise AssertionError(f"the screen never settled:\n{last}")

    def wait_exited(self, timeout: float = 15.0) -> None:
        """Wait until the program has exited (its window is gone)."""
        deadline = time.monotonic() + timeout
        while self.alive():
            assert time.monotonic() < deadline, self.screen()
            time.sleep(0.1)

    def wait_shell(self, timeout: float = 10.0) -> None:
        """Wait until the program has ended, its window gone or back at a shell prompt."""
        deadline = time.monotonic() + timeout
        while self.alive() and "$" not in self.screen().strip()[-2:]:
            assert time.monotonic() < deadline, self.screen()
            time.sleep(0.1)

    def alive(self) -> bool:
        return "e2e" in self.tmux("list-sessions", "-F", "#{session_name}")

    def close(self) -> None:
        self.tmux("kill-server")
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)

    def display(self, fmt: str) -> str:
        """A tmux format expanded for the pane: ``#{pane_pid}``, ``#{alternate_on}``…"""
        return self.tmux("display-message", "-p", "-t", "e2e", fmt).strip()

    def kill_session(self) -> None:
        """Close the window as a user would: the program's terminal goes away."""
        self.tmux("kill-session", "-t", "e2e")
