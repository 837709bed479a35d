"""Detached runs end to end (issue 13, decisions A1–A6): the real program in real
terminals, driven as a person would, each terminal a tmux server of the test's own.

The programs get a ``HOME``, ``AIL_HOME`` and private runtime folder of the test's own,
and a tag in their environment that every process they start inherits: what they leave
behind is found by it (and only that is ever killed).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from private_runtime import private_runtime
from processes import TAG_VARIABLE, alive, gone_soon, step_processes, tagged
from tmux_session import Tmux, needs_tmux, shows
from waiting import wait_for

pytestmark = needs_tmux

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "detached_tui"
PIPELINE = "branches_gate_held.ail.yaml"
STUB = "thinker_slow.stub.yaml"
RUN_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
SHOWN_WITHIN = 15.0
"""How long a screen may take to show something (a dashboard starting on a busy box)."""

wait_until = functools.partial(wait_for, every=0.05)
"""``condition()``'s first truthy value, polled every 50 ms (each poll may read a
terminal through tmux) until ``within`` seconds are over."""


class Project:
    """A project folder with the fixture pipeline and stub script, and how to run
    ``ail-tui`` in it: in a terminal of its own (tmux) or to its end (subprocess)."""

    def __init__(self, tmp_path: Path, runtime: Path) -> None:
        self.tmp = tmp_path
        self.dir = tmp_path / "work"
        self.dir.mkdir()
        shutil.copy(FIXTURES / PIPELINE, self.dir / "p.ail.yaml")
        shutil.copy(FIXTURES / STUB, self.dir / "s.stub.yaml")
        home = tmp_path / "home"
        home.mkdir()
        self.tag = uuid.uuid4().hex
        self.env = {
            "HOME": str(home),
            "AIL_HOME": str(home / ".ail"),
            "AIL_TUI_RUNTIME_DIR": str(runtime),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
            "TERM": "xterm-256color",
            TAG_VARIABLE: self.tag,
        }
        self.terminals: list[Tmux] = []

    def terminal(self, *args: str, stay: bool = False) -> Tmux:
        """A new terminal running ``ail-tui ARGS`` in the project: as the pane's own
        process (the pane closes when it exits), or with ``stay`` under a shell that
        then says how it exited and keeps the terminal open."""
        exports = " ".join(f"{k}='{v}'" for k, v in self.env.items())
        # No COLUMNS or LINES from this process's environment (readline may have set
        # them): the program sizes itself from its terminal.
        command = (f"env -u COLUMNS -u LINES {exports} '{sys.executable}' -m ail_tui "
                   + " ".join(f"'{arg}'" for arg in args))
        term = Tmux(self.tmp)
        self.terminals.append(term)
        if stay:
            script = self.tmp / f"terminal-{len(self.terminals)}.sh"
            script.write_text(f"cd '{self.dir}'\n{command}\n"
                              'echo "ail-tui exited $?"\nexec sleep 600\n')
            term.start(f"sh '{script}'", width=140, height=32)
        else:
            term.start(f"cd '{self.dir}' && exec {command}", width=140, height=32)
        return term

    def ail(self, *args: str, within: float = 30.0) -> subprocess.CompletedProcess[str]:
        """``ail-tui ARGS`` run to its end in the project."""
        return subprocess.run([sys.executable, "-m", "ail_tui", *args], cwd=self.dir,
                              env={**os.environ, **self.env}, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=within)

    def ps(self) -> list[dict[str, Any]]:
        """``ail-tui ps --format json``."""
        done = self.ail("ps", "--format", "json")
        assert done.returncode == 0, done.stderr
        rows: list[dict[str, Any]] = json.loads(done.stdout)
        return rows

    def live(self, run_id: str) -> dict[str, Any] | None:
        """What ``ps`` says of run ``run_id`` (None: it does not list it)."""
        return next((row for row in self.ps() if row["run_id"] == run_id), None)

    def records(self, run_id: str) -> list[dict[str, Any]]:
        logs = list(Path(self.env["AIL_HOME"]).glob(f"projects/*/runs/{run_id}.jsonl"))
        assert len(logs) == 1, logs
        return [json.loads(line) for line in logs[0].read_text().splitlines() if line]

    def log_json(self, run_id: str) -> dict[str, Any]:
        """``ail-tui log RUN_ID --format json``."""
        done = self.ail("log", run_id, "--format", "json")
        assert done.returncode == 0, done.stderr
        data: dict[str, Any] = json.loads(done.stdout)
        return data

    def step_processes(self) -> list[int]:
        """The live step processes started by the project's programs."""
        return step_processes(self.tag)

    def release(self) -> None:
        """Let the held last step finish."""
        (self.dir / "release").touch()

    def close(self) -> None:
        for term in self.terminals:
            term.close()
        for pid in tagged(self.tag):  # ours: started by this test's programs
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with private_runtime() as runtime:
        made = Project(tmp_path, runtime)
        try:
            yield made
        finally:
            made.close()


def gone(term: Tmux, within: float = 10.0) -> None:
    """The program in ``term`` exited (its pane, and so its session, closed)."""
    wait_until(lambda: not term.alive(), within, "the program to exit")


def pid_of(term: Tmux) -> int:
    """The pid of the program that is the pane's own process."""
    pid = int(term.display("#{pane_pid}"))
    assert b"ail_tui" in Path(f"/proc/{pid}/cmdline").read_bytes()
    return pid


@pytest.mark.timeout(60)
def test_detached_run_outlives_its_terminal_and_is_steered_by_two_viewers(
        project: Project) -> None:
    # Start the run detached, read its id off the screen, close the terminal.
    launcher = project.terminal("run", "p.ail.yaml", "--detach", "--stub-script",
                                "s.stub.yaml", stay=True)
    screen = launcher.wait_for("ail-tui exited", timeout=SHOWN_WITHIN)
    assert "ail-tui exited 0" in screen, screen
    found = RUN_ID.findall(screen)
    assert len(found) == 1, screen
    run_id = found[0]
    launcher.kill_session()
    wait_until(lambda: not launcher.alive(), 5, "the first terminal to close")
    listed = wait_until(lambda: project.live(run_id), 5, "ps to list the run")
    assert listed["detached"] is True and alive(listed["pid"])
    wait_until(lambda: (project.dir / "started.sleeper").exists(), 10, "the sleeper branch")

    # A first viewer, in a new terminal: it cancels the sleeping branch.
    first = project.terminal("attach", run_id)
    first.wait_for(f"attached to run {run_id[:8]}", timeout=SHOWN_WITHIN)
    first.wait_for("✓ valid", timeout=SHOWN_WITHIN)
    first.keys("t")  # the output pane: its title names the selected step
    first.wait_for("first · prompt · ✓ done")
    first.keys("j")
    first.wait_for("sleeper · shell · ▶ running")
    first.keys("x")
    first.wait_for("sleeper · shell · ⊘ cancelled")
    screen = first.wait_for("⊘ cancelled    sleeper")
    assert not shows(screen, "⊘ cancelled thinker")  # only that branch

    # The join goes on without it; the run waits at its gate for a person (A5).
    wait_until(lambda: (project.live(run_id) or {}).get("gates") == ["approve"],
               SHOWN_WITHIN, "the run to wait at its gate")
    first.wait_for("Human gate")

    # A second viewer, in a third terminal, answers the gate with g, then y.
    second = project.terminal("attach", run_id)
    second.wait_for(f"attached to run {run_id[:8]}", timeout=SHOWN_WITHIN)
    second.wait_for("✓ valid", timeout=SHOWN_WITHIN)
    second.keys("g")
    screen = second.wait_for("Human gate — step 'approve'")
    assert "Ship it?" in screen
    second.keys("y")
    second.wait_for("✓ done         approve")
    second.wait_for("▶ running      last")
    first.wait_for("✓ done         approve")  # both see the run as it goes

    # The gate was answered elsewhere: its dialog here closes by itself. The first
    # viewer then leaves with q, then d (detach).
    wait_until(lambda: "Human gate" not in first.screen(), 5, "the dialog to close")
    first.keys("q")
    first.wait_for("Detach (d)")
    first.keys("d")
    gone(first)
    assert project.live(run_id) is not None

    # The second viewer's terminal is closed: an attached run is left alone.
    viewer = pid_of(second)
    second.kill_session()
    assert gone_soon(viewer, 5.0)
    row = project.live(run_id)
    assert row is not None and row["status"] == "running", row

    # No terminal is attached any more: the held step is let go and the run ends.
    assert not (project.dir / "finished.last").exists()
    project.release()
    wait_until(lambda: project.ps() == [], SHOWN_WITHIN, "ps to list no live run")
    assert gone_soon(listed["pid"], 5.0)  # the run's process ended with it
    log = project.log_json(run_id)
    assert log["status"] == "completed", log
    steps = {step["step_id"]: step for step in log["steps"]}
    assert steps["sleeper"]["status"] == "cancelled"
    assert steps["sleeper"]["cancelled_by"] == "user"
    assert steps["thinker"]["status"] == "done"
    assert steps["last"]["status"] == "done"
    records = project.records(run_id)
    assert [r["step_id"] for r in records if r.get("type") == "gate_passed"] == ["approve"]
    assert records[-1]["type"] == "run_finished" and records[-1]["status"] == "completed"
    assert (project.dir / "finished.last").exists()
    assert project.step_processes() == []


def dashboard_run(project: Project) -> tuple[Tmux, int, dict[str, Any]]:
    """``ail-tui p.ail.yaml`` in a terminal, r pressed: the terminal, the dashboard's pid
    and what ``ps`` says of its run once both branches are running."""
    term = project.terminal("p.ail.yaml", "--stub-script", "s.stub.yaml")
    term.wait_for("✓ valid", timeout=SHOWN_WITHIN)
    dashboard = pid_of(term)
    term.keys("r")
    term.wait_for("▶ running      sleeper", timeout=SHOWN_WITHIN)
    wait_until(lambda: (project.dir / "started.sleeper").exists(), 10, "the sleeper branch")
    runs = wait_until(project.ps, 5, "ps to list the dashboard's run")
    assert len(runs) == 1, runs
    run = runs[0]
    assert run["detached"] is False and run["pid"] != dashboard, run
    return term, dashboard, run


@pytest.mark.timeout(60)
def test_a_dashboard_run_left_with_q_then_d_goes_on_and_can_be_attached(
        project: Project) -> None:
    term, dashboard, run = dashboard_run(project)
    run_id = run["run_id"]

    term.keys("q")
    screen = term.wait_for("Detach (d)")
    assert f"Run {run_id[:8]} is still running" in screen
    term.keys("d")
    gone(term)
    assert gone_soon(dashboard, 5.0)

    # The run goes on in its own process, now detached, and says so.
    wait_until(lambda: (project.live(run_id) or {}).get("detached"), 5,
               "ps to say the run is detached")
    row = project.live(run_id)
    assert row is not None and row["status"] == "running" and alive(run["pid"]), row
    assert row["steps"].get("running", 0) >= 1, row  # the sleeper, still at work

    # ail-tui attach shows it: the banner, and the steps as they are.
    viewer = project.terminal("attach", run_id)
    viewer.wait_for(f"attached to run {run_id[:8]} of process {run['pid']}",
                    timeout=SHOWN_WITHIN)
    screen = viewer.wait_for("▶ running      sleeper", timeout=SHOWN_WITHIN)
    assert shows(screen, "✓ done first")

    # Leaving it with q, then c, cancels the run.
    viewer.keys("q")
    viewer.wait_for("Cancel run (c)")
    viewer.keys("c")
    gone(viewer)
    wait_until(lambda: project.ps() == [], SHOWN_WITHIN, "ps to list no live run")
    assert gone_soon(run["pid"], 5.0)
    records = project.records(run_id)
    assert records[-1]["type"] == "run_finished", records[-1]
    assert records[-1]["status"] == "cancelled", records[-1]
    assert project.step_processes() == []


@pytest.mark.timeout(60)
def test_a_dashboard_killed_before_detaching_takes_its_run_with_it(project: Project) -> None:
    _, dashboard, run = dashboard_run(project)
    steps = project.step_processes()
    assert steps, "the sleeper branch runs a process"

    killed = time.monotonic()
    os.kill(dashboard, signal.SIGKILL)  # ours: the program this test started

    def within() -> float:  # what is left of the 2 s since the kill
        return max(0.0, killed + 2.0 - time.monotonic())

    assert gone_soon(dashboard, within())
    assert gone_soon(run["pid"], within()), "the run's process outlived its dashboard by 2 s"
    left = [pid for pid in steps if alive(pid)] + project.step_processes()
    assert left == [], f"step processes left 2 s after the kill: {left}"
    records = project.records(run["run_id"])
    assert records[-1]["type"] == "run_finished", records[-1]
    assert records[-1]["status"] == "cancelled", records[-1]
    assert f"pid {dashboard}" in records[-1]["error"], records[-1]
    assert project.ps() == []
