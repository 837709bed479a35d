"""The dashboard stops cleanly on SIGTERM, SIGINT, SIGHUP and a closed terminal, and at
once on a second stop signal (issue 9, decisions A6 and D5).

The real program runs in tmux through a small shell script that records its pid, and,
after it exits, whether the terminal's modes are as before and the exit code. Step
processes are found by a tag in their environment, which they inherit from the dashboard.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pilot_waits import start_run, until
from processes import alive, gone_soon, step_processes
from tmux_session import Tmux, needs_tmux

from ail_tui.tui import stop_signals
from ail_tui.tui.app import AilApp
from ail_tui.tui.stop_signals import EXIT_INTERRUPTED, StopSignals
from ail_tui.tui.terminal import StopRequested

ROOT = Path(__file__).resolve().parents[2]
STOP_WITHIN = 2.0  # seconds from the signal to the dashboard's end

THREE_SLEEPS = """version: "1"
pipeline:
  - id: one
    async: true
    context: {shell: "sleep 30"}
  - id: two
    async: true
    context: {shell: "sleep 30"}
  - id: three
    async: true
    context: {shell: "%s"}
  - id: all
    action: join
    depends_on: [one, two, three]
"""
SLEEPS = THREE_SLEEPS % "sleep 30"
STUBBORN = THREE_SLEEPS % "trap '' TERM; sleep 30"  # a step that ignores SIGTERM

# How the dashboard is started in its pane: under a shell that reports how it ended,
# as the pane's own process, or in a session of its own (a closed terminal then sends
# it no SIGHUP: only its reads and writes fail).
SCRIPTS = {
    "shell": """cd '{dir}'
before=$(stty -g)
env {exports} sh -c 'echo $$ > dashboard.pid; exec "$@"' dashboard {command}
code=$?
if [ "$(stty -g)" = "$before" ]; then echo "tty modes restored"; else echo "tty modes changed"; fi
echo "dashboard exited $code"
exec sleep 600
""",
    "exec": """cd '{dir}'
exec env {exports} sh -c 'echo $$ > dashboard.pid; exec "$@"' dashboard {command}
""",
    "setsid": """cd '{dir}'
setsid -w env {exports} sh -c 'echo $$ > dashboard.pid; exec "$@"' dashboard {command}
exec sleep 600
""",
}


def wait_until(condition: Callable[[], object], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class Dashboard:
    """``ail-tui p.ail.yaml`` in a tmux pane of its own."""

    def __init__(self, tmp_path: Path, pipeline: str, how: str = "shell") -> None:
        self.dir = tmp_path
        (tmp_path / "p.ail.yaml").write_text(pipeline)
        self.tag = uuid.uuid4().hex
        self.home = tmp_path / "home"
        env = {
            "AIL_HOME": str(self.home),
            "AIL_TEST_TAG": self.tag,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
            "TERM": "xterm-256color",
        }
        exports = " ".join(f"{k}='{v}'" for k, v in env.items())
        command = f"'{sys.executable}' -m ail_tui p.ail.yaml --stub-response ok"
        script = tmp_path / "dashboard.sh"
        script.write_text(SCRIPTS[how].format(dir=tmp_path, exports=exports,
                                              command=command))
        self.term = Tmux(tmp_path)
        self.term.start(f"sh '{script}'")
        pid_file = tmp_path / "dashboard.pid"
        try:
            wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), 15,
                       "the dashboard's pid")
            self.pid = int(pid_file.read_text())
            self.term.wait_for("✓ valid")
        except BaseException:
            self.term.close()
            raise

    def run(self, steps: int = 3) -> None:
        """Press r; return once every shell step's process is running."""
        self.term.keys("r")
        wait_until(lambda: len(step_processes(self.tag)) >= steps, 15,
                   f"{steps} step processes")

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def gone_within(self, seconds: float) -> bool:
        return gone_soon(self.pid, seconds)

    def last_record(self) -> dict[str, Any]:
        logs = list(self.home.glob("projects/*/runs/*.jsonl"))
        assert len(logs) == 1, logs
        lines = [line for line in logs[0].read_text().splitlines() if line.strip()]
        record: dict[str, Any] = json.loads(lines[-1])
        return record

    def assert_terminal_restored(self) -> str:
        """After the dashboard: the shell writes again on a terminal as it was before."""
        screen = self.term.wait_for("dashboard exited", timeout=5)
        assert "tty modes restored" in screen, screen
        assert f"dashboard exited {EXIT_INTERRUPTED}" in screen, screen
        assert self.term.display("#{alternate_on}") == "0"  # the main screen is back
        assert self.term.display("#{cursor_flag}") == "1"  # the cursor is shown
        mouse = self.term.display(
            "#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}#{mouse_sgr_flag}")
        assert mouse == "0000"  # no mouse tracking
        return screen

    def close(self) -> None:
        if alive(self.pid):  # the test failed: the dashboard is ours to end
            os.kill(self.pid, signal.SIGKILL)
        self.term.close()


Start = Callable[..., Dashboard]


@pytest.fixture
def dashboards(tmp_path: Path) -> Iterator[Start]:
    started: list[Dashboard] = []

    def start(pipeline: str, how: str = "shell") -> Dashboard:
        dashboard = Dashboard(tmp_path, pipeline, how)
        started.append(dashboard)
        return dashboard

    yield start
    for dashboard in started:
        dashboard.close()


@needs_tmux
@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=lambda s: signal.Signals(s).name)
def test_a_stop_signal_cancels_the_run_and_restores_the_terminal(dashboards: Start,
                                                                 sig: int) -> None:
    dashboard = dashboards(SLEEPS)
    dashboard.run()

    dashboard.signal(sig)

    assert dashboard.gone_within(STOP_WITHIN), dashboard.term.screen()
    assert step_processes(dashboard.tag) == []  # ended by the cancel, before the exit
    record = dashboard.last_record()
    assert record["type"] == "run_finished" and record["status"] == "cancelled", record
    assert signal.Signals(sig).name in record["error"]
    dashboard.assert_terminal_restored()


@needs_tmux
@pytest.mark.timeout(60)
def test_a_stop_signal_without_a_run_just_exits(dashboards: Start) -> None:
    dashboard = dashboards(SLEEPS)

    dashboard.signal(signal.SIGTERM)

    assert dashboard.gone_within(STOP_WITHIN), dashboard.term.screen()
    dashboard.assert_terminal_restored()
    assert not list(dashboard.home.glob("projects/*/runs/*.jsonl"))


@needs_tmux
@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["exec", "shell", "setsid"])
def test_a_closed_terminal_cancels_the_run(dashboards: Start, how: str) -> None:
    if how == "setsid" and shutil.which("setsid") is None:
        pytest.skip("setsid is not installed")
    dashboard = dashboards(SLEEPS, how)
    dashboard.run()

    dashboard.term.kill_session()

    assert dashboard.gone_within(STOP_WITHIN)
    assert step_processes(dashboard.tag) == []
    record = dashboard.last_record()
    assert record["type"] == "run_finished" and record["status"] == "cancelled", record


@needs_tmux
@pytest.mark.timeout(60)
def test_a_second_signal_forces_the_exit(dashboards: Start) -> None:
    dashboard = dashboards(STUBBORN)
    dashboard.run(steps=4)  # two sleeps, and a shell that ignores SIGTERM with its sleep

    started = time.monotonic()
    dashboard.signal(signal.SIGTERM)
    dashboard.term.wait_for("Stopping", timeout=STOP_WITHIN)  # the first one was heard
    dashboard.signal(signal.SIGTERM)

    assert dashboard.gone_within(STOP_WITHIN - (time.monotonic() - started))
    wait_until(lambda: not step_processes(dashboard.tag), 0.5, "the steps' end")
    screen = dashboard.assert_terminal_restored()
    assert "second stop signal (SIGTERM): stopped at once" in screen


async def test_stop_requested_cancels_the_run_and_exits(make_app: Callable[..., AilApp],
                                                        tmp_path: Path) -> None:
    app = make_app("""
        version: "1"
        pipeline:
          - id: long
            context: {shell: "sleep 30"}
        """)
    async with app.run_test(size=(100, 30)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: "long" in app.view.rows
                    and app.view.rows["long"].status == "running")

        app.post_message(StopRequested("dashboard got SIGTERM"))
        deadline = time.monotonic() + 10
        while app.is_running:
            assert time.monotonic() < deadline, "the dashboard did not exit"
            await asyncio.sleep(0.02)

    assert app.return_value == EXIT_INTERRUPTED
    assert app.current_run is not None
    result = app.current_run.wait(0)  # ended before the dashboard exited
    assert result is not None and result.status == "cancelled"
    assert result.error == "dashboard got SIGTERM"
    log = next((tmp_path / "home").glob("projects/*/runs/*.jsonl"))
    last = json.loads(log.read_text().splitlines()[-1])
    assert (last["type"], last["status"]) == ("run_finished", "cancelled")


class FakeTerminal:
    def __init__(self, gone: bool) -> None:
        self.is_gone = gone

    def gone(self) -> bool:
        return self.is_gone

    def restore(self, farewell: str = "") -> None:
        raise AssertionError("a test terminal is never restored")


class Forced(Exception):
    pass


@pytest.mark.timeout(10)
@pytest.mark.parametrize("gone", [True, False])
def test_only_an_insisting_hangup_forces(monkeypatch: pytest.MonkeyPatch, gone: bool) -> None:
    """A closed terminal may hang up twice (shell, then kernel): that is one stop."""
    monkeypatch.setattr(stop_signals, "FORCE_AFTER_SECONDS", 60.0)
    loop = asyncio.new_event_loop()
    stops: list[str] = []
    signals = StopSignals(loop, stops.append, FakeTerminal(gone))

    def force(why: str) -> None:
        raise Forced(why)

    monkeypatch.setattr(signals, "force", force)
    try:
        signals._received(signal.SIGHUP, None)
        if gone:
            signals._received(signal.SIGHUP, None)  # the terminal's own second hang-up
        else:
            with pytest.raises(Forced, match="SIGHUP"):
                signals._received(signal.SIGHUP, None)  # someone's kill -HUP, again
        with pytest.raises(Forced, match="SIGTERM"):
            signals._received(signal.SIGTERM, None)
        loop.call_soon(loop.stop)
        loop.run_forever()
        assert stops == ["dashboard got SIGHUP"]
    finally:
        assert signals._backstop is not None
        signals._backstop.cancel()
        loop.close()
