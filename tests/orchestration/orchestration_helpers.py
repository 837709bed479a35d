"""Helpers of the orchestration tests: runs served in this process, raw viewers, and
real ``ail-tui`` processes in a project of their own."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from event_recorder import Recorder
from processes import TAG_VARIABLE, tagged
from waiting import wait_for

from ail_tui.engine import events as ev
from ail_tui.engine.local_run import LocalRun
from ail_tui.engine.run_types import RunOptions
from ail_tui.orchestration.control_server import ControlServer
from ail_tui.orchestration.remote_run import RemoteRun
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.registry import RunnerFactory
from ail_tui.runners.stub import StubScript
from ail_tui.turnlog.paths import runs_dir

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "detached"
QUICK = {"default": {"response": "ok", "delay": 0.02}}
"""A stub script: every prompt answers at once."""
FINISH_WITHIN = 30.0
"""A run that should end: how long it may take on a loaded machine."""


def keys(events: list[ev.Event]) -> list[tuple[str, str | None, float]]:
    """What must match between a run's own events and a viewer's: type, step, time."""
    return [(e.type, getattr(e, "step_id", None), e.at) for e in events]


def is_delta(event: ev.Event) -> bool:
    """A stream delta (a late subscriber gets the earlier ones folded into one)."""
    return isinstance(event, ev.RunnerEvent) and event.event.get("type") == "stream_delta"


def of_type(events: list[ev.Event], kind: type[ev.Event], step_id: str | None = None
            ) -> list[ev.Event]:
    return [e for e in events if isinstance(e, kind)
            and (step_id is None or getattr(e, "step_id", None) == step_id)]


# -- a run served in this process ------------------------------------------------------


class Served:
    """A :class:`LocalRun` of a fixture pipeline behind a :class:`ControlServer`, with a
    recorder subscribed from the start and the viewers the test opens."""

    def __init__(self, runtime: Path, work: Path, pipeline: str,
                 script: dict[str, Any] | None = None, interactive: bool = False) -> None:
        checked = check_file(FIXTURES / pipeline)
        assert checked.valid and checked.pipeline is not None, checked.errors
        runners = RunnerFactory(stub_script=StubScript.model_validate(script or QUICK))
        options = RunOptions(runner="stub", runners=runners, sync_log=False,
                             log_dir=runs_dir(work), cwd=str(work), interactive=interactive)
        self.run = LocalRun(checked.pipeline, options)
        self.recorder = Recorder()
        self.run.subscribe(self.recorder)
        self.path = runtime / f"{self.run.run_id}.sock"  # where live_runs looks
        self.server = ControlServer(self.run, self.path,
                                    pipeline_source=str(checked.pipeline.source)).start()
        self.viewers: list[RemoteRun] = []
        self.sockets: list[socket.socket] = []

    def viewer(self) -> RemoteRun:
        remote = RemoteRun(self.path)
        self.viewers.append(remote)
        return remote

    def watched(self) -> tuple[RemoteRun, Recorder]:
        """A viewer, and a recorder subscribed to it."""
        remote, seen = self.viewer(), Recorder()
        remote.subscribe(seen)
        return remote, seen

    def raw(self, rcvbuf: int | None = None) -> RawViewer:
        viewer = RawViewer(self.path, rcvbuf)
        self.sockets.append(viewer.sock)
        return viewer

    def start(self) -> Served:
        self.run.start()
        return self

    def finished(self) -> Any:
        result = self.run.wait(FINISH_WITHIN)
        assert result is not None, f"the run did not end within {FINISH_WITHIN} s"
        return result

    def records(self) -> list[dict[str, Any]]:
        log = self.run.log_path
        assert log is not None
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()
                if line.strip()]

    def close(self) -> None:
        for remote in self.viewers:
            remote.close()
        for sock in self.sockets:
            sock.close()
        if self.run.wait(0) is None:
            self.run.cancel("the test ended")
            self.run.wait(10)
        self.server.close(within=0.2)


class RawViewer:
    """A viewer speaking the protocol by hand: it sends what it likes, reads lines."""

    def __init__(self, path: Path, rcvbuf: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10.0)
        self.sock.connect(str(path))
        self._buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> dict[str, Any]:
        """The next line, as JSON (AssertionError when the connection ends first)."""
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            assert chunk, f"the connection closed; unread: {self._buffer[:200]!r}"
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        data: dict[str, Any] = json.loads(line)
        return data

    def reply(self) -> dict[str, Any]:
        """The next reply line (events in between are skipped)."""
        while True:
            data = self.line()
            if "reply" in data:
                return data

    def closed_by_server(self) -> bool:
        """Whether the server closed the connection (read to the end, 10 s at most)."""
        try:
            while self.sock.recv(65536):
                pass
        except ConnectionResetError:
            return True
        except OSError:
            return False
        return True


# -- real ail-tui processes ------------------------------------------------------------


class Project:
    """A project folder with its own ``HOME``/``AIL_HOME`` and runtime folder (the
    conftest's, already in this process's environment), and the processes started in
    it; every one carries this project's tag, so what they leave can be found and killed."""

    def __init__(self, work: Path, runtime: Path) -> None:
        self.work = work
        self.runtime = runtime
        self.tag = uuid.uuid4().hex
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        self.env = {**os.environ, "PYTHONPATH": path, TAG_VARIABLE: self.tag}
        self.started: list[subprocess.Popen[str]] = []
        self.queue = ""
        """The Temporal task queue of this test's workers (the ``temporal`` fixture's)."""
        self.temporal: list[str] = []
        """The run options that send a run to them."""
        self.temporal_address = ""
        """The address of the Temporal service they poll."""

    def ail(self, *args: str, within: float = FINISH_WITHIN) -> subprocess.CompletedProcess[str]:
        """``python -m ail_tui ARGS`` to its end."""
        return subprocess.run([sys.executable, "-m", "ail_tui", *args], cwd=self.work,
                              env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=within)

    def start(self, *args: str) -> subprocess.Popen[str]:
        """``python -m ail_tui ARGS`` in the background, stdout and stderr piped."""
        process = subprocess.Popen([sys.executable, "-m", "ail_tui", *args], cwd=self.work,
                                   env=self.env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.started.append(process)
        return process

    def detach(self, pipeline: str, *options: str) -> str:
        """``run FIXTURE --detach OPTIONS``: the run id it printed."""
        done = self.ail("run", str(FIXTURES / pipeline), "--detach", *options)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert len(lines) == 1, done.stdout
        return lines[0]

    def log(self, run_id: str) -> Path:
        return runs_dir(self.work) / f"{run_id}.jsonl"

    def records(self, run_id: str) -> list[dict[str, Any]]:
        """The complete records of a run's turn log (a torn last line left out)."""
        out = []
        with contextlib.suppress(FileNotFoundError):
            for line in self.log(run_id).read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError):
                    out.append(json.loads(line))
        return out

    def finish_record(self, run_id: str) -> dict[str, Any] | None:
        """The log's ``run_finished`` record (None: not written yet)."""
        return next((r for r in self.records(run_id) if r.get("type") == "run_finished"),
                    None)

    def finished(self, run_id: str, within: float = FINISH_WITHIN) -> dict[str, Any]:
        found: dict[str, Any] = wait_for(lambda: self.finish_record(run_id), within,
                                         f"run {run_id} to record its end")
        return found

    def ps(self) -> list[dict[str, Any]]:
        done = self.ail("ps", "--format", "json")
        assert done.returncode == 0, done.stderr
        rows: list[dict[str, Any]] = json.loads(done.stdout)
        return rows

    def row(self, run_id: str) -> dict[str, Any] | None:
        return next((r for r in self.ps() if r["run_id"] == run_id), None)

    def marker(self, name: str, within: float = FINISH_WITHIN) -> None:
        """Until a step touched ``started.NAME`` in the project folder."""
        wait_for((self.work / f"started.{name}").exists, within, f"started.{name}")

    def release(self) -> None:
        """Let the ``hold`` step of held pipelines finish."""
        (self.work / "release").touch()

    def leftovers(self, run_id: str) -> list[str]:
        """Files of the run still in the runtime folder."""
        return sorted(p.name for p in self.runtime.iterdir() if run_id in p.name)

    def cleanup(self) -> None:
        """Kill what a failed test left: our processes (by pid), then any process that
        carries this project's tag (a detached run, its steps)."""
        for process in self.started:
            if process.poll() is None:
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.communicate(timeout=5)
        for pid in tagged(self.tag):
            if pid != os.getpid():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)


def ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def elapsed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    value = action()
    return value, time.monotonic() - started
