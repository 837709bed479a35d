"""Killing real ``ail-tui`` runs and reading what they left: the helpers of the kill -9
and resume tests (see ``test_kill_resume.py``)."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from processes import TAG_VARIABLE, alive, tagged
from waiting import wait_for  # test_kill_resume imports it from here too

from ail_tui.processes.marks import run_pids
from ail_tui.turnlog.reader import RunRecord, read_run

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_pipelines"
FIXTURES = ROOT / "tests" / "fixtures" / "kill_resume"
STUB = ("--stub-response", "stub-ok")
"""Prompt steps of the fixtures answer offline."""
LEAK_WINDOW = 2.0
"""D5: no process of a killed run is alive this long after the kill."""
START_WITHIN = 20.0
"""How long a started ``ail-tui`` may take to print its first event (a loaded machine)."""
FINISH_WITHIN = 40.0


# -- the turn log ------------------------------------------------------------------------


def records_of(log: Path) -> list[dict[str, Any]]:
    """The complete records of a turn log (a torn last line is left out)."""
    out = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def entries_of(log: Path, step_id: str) -> list[dict[str, Any]]:
    """The TurnEntries of one step."""
    return [r for r in records_of(log) if r.get("step_id") == step_id and "type" not in r]


def kinds(log: Path) -> Counter[str]:
    return Counter(str(r["type"]) for r in records_of(log) if "type" in r)


def starts(log: Path, step_id: str) -> list[list[int] | None]:
    """The ``step_started`` records of one step (their iterations): each is one execution
    of its body; a reused step writes none."""
    return [r.get("iteration") for r in records_of(log)
            if r.get("type") == "step_started" and r.get("step_id") == step_id]


# -- ail-tui processes ------------------------------------------------------------------


class Ail:
    """One ``python -m ail_tui`` started by a test; stdout read as NDJSON events."""

    def __init__(self, project: Project, args: tuple[str, ...]) -> None:
        self.args = args
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ail_tui", *args], cwd=project.work, env=project.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self.started = time.monotonic()
        self.events: list[dict[str, Any]] = []
        self.arrivals: list[float] = []
        """When each event was read (``time.monotonic``)."""
        self._lines: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._err: list[str] = []
        self._readers = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_out(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"type": "not-json", "text": line}
            self.events.append(event)
            self.arrivals.append(time.monotonic())
            self._lines.put(event)
        self._lines.put(None)

    def _read_err(self) -> None:
        assert self.process.stderr is not None
        self._err.extend(self.process.stderr)

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    def first_event(self, within: float = START_WITHIN) -> dict[str, Any]:
        """The first event on stdout (``run_started``: the run's log exists by then)."""
        try:
            event = self._lines.get(timeout=within)
        except queue.Empty:
            raise AssertionError(f"no event from {self.args} in {within} s") from None
        assert event is not None, f"{self.args} printed nothing: {self.stderr}"
        assert event["type"] == "run_started", event
        return event

    def kill(self) -> None:
        """SIGKILL this process (by its pid), reap it and read what it printed."""
        self.process.kill()
        self.process.wait(10)
        for reader in self._readers:
            reader.join(5)

    def finish(self, within: float = FINISH_WITHIN) -> int:
        """Wait for the exit; its code."""
        try:
            code = self.process.wait(within)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.args} still running after {within} s") from None
        for reader in self._readers:
            reader.join(5)
        return code


class Project:
    """A project directory and an isolated ail home, and the processes started in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = root / "work"
        self.home = root / "home"
        for folder in (self.work / "ran", self.work / "started", self.home):
            folder.mkdir(parents=True)
        self.tag = uuid.uuid4().hex
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        self.env = {**os.environ, "AIL_HOME": str(self.home / ".ail"),
                    "HOME": str(self.home), "PYTHONPATH": path, TAG_VARIABLE: self.tag}
        self.started: list[Ail] = []

    def pipeline(self, name: str) -> Path:
        """A copy of the fixture ``name`` in the project (tests may edit it)."""
        target = self.work / name
        shutil.copyfile(FIXTURES / name, target)
        return target

    def start(self, *args: str) -> Ail:
        ail = Ail(self, args)
        self.started.append(ail)
        return ail

    def ail(self, *args: str, within: float = FINISH_WITHIN) -> tuple[int, Ail]:
        """Run to the end: its exit code and the process."""
        ail = self.start(*args)
        return ail.finish(within), ail

    def ran(self) -> dict[str, int]:
        """How many times each shell step ran (lines in ``ran/STEP``)."""
        return {p.name: len(p.read_text().splitlines())
                for p in sorted((self.work / "ran").iterdir())}

    def marker(self, name: str, within: float = START_WITHIN) -> None:
        """Wait until a step touched ``started/name``."""
        wait_for((self.work / "started" / name).exists, within, f"started/{name}")

    def cleanup(self) -> None:
        """Kill what a failed test left: our ail-tui processes (by pid), then processes
        carrying this project's own tag (descendants of those)."""
        for ail in self.started:
            if ail.process.poll() is None:
                ail.kill()
        for pid in tagged(self.tag):
            if pid != os.getpid():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)


def kill_and_check_no_leak(ail: Ail, run_id: str, log: Path) -> None:
    """SIGKILL the run's process; no process of the run may be alive 2 s later (D5), and
    by then its log no longer reads as running.

    (A kill that lands while the run forks a step process leaves the child holding the
    log's lock until its ``exec``: the log reads as ``running`` for a few ms, up to ~0.1 s
    on a loaded machine, and ``resume`` would refuse it. See the report.)
    """
    ail.kill()
    deadline = time.monotonic() + LEAK_WINDOW
    while (left := [p for p in run_pids(run_id) if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == [], f"processes of run {run_id} alive {LEAK_WINDOW} s after kill -9: {left}"
    wait_for(lambda: read_run(log).status != "running", max(deadline - time.monotonic(), 0),
             f"run {run_id} to stop reading as running after kill -9")


PROCESS_TESTS = [
    pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                       reason="finds step processes through /proc"),
    pytest.mark.timeout(60),
]
"""The marks of every test module that kills real runs."""


def start_run(project: Project, *arguments: str) -> tuple[Ail, str, Path]:
    """``ail-tui run --headless ARGUMENTS``: the process, once its first event is out, with
    its run id and log."""
    run = project.start("run", "--headless", *arguments)
    started = run.first_event()
    return run, started["run_id"], Path(started["log_path"])


def start_and_kill_at_marker(project: Project, pipeline: Path, marker: str,
                             ready: Callable[[Path], bool] | None = None) -> tuple[str, Path]:
    """Run ``pipeline`` headless, wait for ``started/marker`` (and ``ready(log)``), check
    that the run has a live step process, then kill -9 it; the run id and its log."""
    run, run_id, log = start_run(project, str(pipeline), *STUB)
    project.marker(marker)
    if ready is not None:
        wait_for(lambda: ready(log), START_WITHIN, "the run's log to be ready for the kill")
    assert run_pids(run_id), "the held step's processes carry the run's mark"
    kill_and_check_no_leak(run, run_id, log)
    assert read_run(log).status == "interrupted"
    return run_id, log


def resume(project: Project, run_id: str, *options: str, code: int = 0) -> Ail:
    """``ail-tui resume RUN_ID --headless`` to the end, with exit code ``code``."""
    exit_code, ail = project.ail("resume", run_id, "--headless", *STUB, *options)
    assert exit_code == code, ail.stderr
    return ail


def completed_as_one_run(log: Path, run_id: str, resumes: int = 1) -> RunRecord:
    """The log reads as one completed run: one start, ``resumes`` resumes, one finish."""
    record = read_run(log)
    assert record.status == "completed", (record.status, record.error)
    assert record.run_id == run_id
    counted = kinds(log)
    assert (counted["run_started"], counted["run_resumed"], counted["run_finished"]) == (
        1, resumes, 1)
    return record
