"""Detached runs (decisions A1): a run in a background process of its own session.

``ail-tui run PIPELINE --detach`` checks the pipeline, then :func:`launch` starts the
same command again as a new session's leader (no terminal, so a closed terminal or
SIGHUP never reaches it) with ``--serve-fd``: that process runs the pipeline behind a
control channel (:func:`serve`) and writes the run id to the inherited pipe once the run
has started and can be attached to; the launching command prints it and exits.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ail_tui.engine import events as ev
from ail_tui.engine.local_run import LocalRun
from ail_tui.engine.run_types import RunOptions
from ail_tui.headless import exit_code, run_to_end
from ail_tui.orchestration.control_server import ControlServer
from ail_tui.orchestration.live_runs import (
    LiveRun,
    new_note,
    process_alive,
    remove_note,
    runtime_dir,
    socket_path,
    write_note,
)
from ail_tui.pipeline.loader import Pipeline

READY_SECONDS = 10.0
"""How long the launching command waits for the run to start (normally well under 1 s)."""
SERVE_FLAG = "--serve-fd"


class LaunchFailed(RuntimeError):
    """The run process did not start the run: it said why on stderr and exited with
    ``code`` (None: it did not say; the message does)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def launch(argv: Sequence[str]) -> str:
    """Start ``ail-tui ARGV --serve-fd N`` in a new session; its run id once it runs.

    Until then the run process writes to this one's stderr (a bad pipeline's errors),
    then it sends its stderr to a file of its own.
    """
    return start_process(["-m", "ail_tui", *argv]).run_id


@dataclass(frozen=True)
class Launched:
    """A started run process: the run's id and the process (reaped on a thread)."""

    run_id: str
    process: subprocess.Popen[bytes]


def start_process(args: Sequence[str], order: bytes | None = None) -> Launched:
    """Start ``python ARGS --serve-fd N`` (``order`` on its stdin) in a new session and
    wait until it says its run started. Raises :class:`LaunchFailed`."""
    read_end, write_end = os.pipe()
    try:
        child = subprocess.Popen(
            [sys.executable, *args, SERVE_FLAG, str(write_end)],
            stdin=subprocess.DEVNULL if order is None else subprocess.PIPE,
            stdout=subprocess.DEVNULL, pass_fds=(write_end,), start_new_session=True,
            close_fds=True)
    finally:
        os.close(write_end)
    threading.Thread(target=child.wait, name="reap-run-process", daemon=True).start()
    try:
        if order is not None and child.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                child.stdin.write(order)
            with contextlib.suppress(BrokenPipeError):
                child.stdin.close()
        answer = _read_line(read_end, time.monotonic() + READY_SECONDS)
    finally:
        os.close(read_end)
    text = answer.decode("utf-8", "replace").strip()
    if text.startswith("run "):
        return Launched(text[4:], child)
    try:  # a pipe closed early: the process is ending (a bad pipeline, said on stderr)
        code = child.wait(1.0)
    except subprocess.TimeoutExpired:
        raise LaunchFailed(f"the run did not start within {READY_SECONDS:.0f} s "
                           f"(its process {child.pid} goes on)") from None
    raise LaunchFailed(f"the run process ended before the run started (exit {code})",
                       code if code in (1, 2) else None)


def _read_line(fd: int, deadline: float) -> bytes:
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data


def serve(pipeline: Pipeline, options: RunOptions, ready_fd: int, owner: int | None = None
          ) -> int:
    """Run ``pipeline`` behind a control channel; say ``run ID`` on ``ready_fd`` once it
    started. ``owner``: a process whose end cancels the run unless it sent ``release``
    first (a dashboard killed mid-run leaves no run behind, D5). The run's exit code."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        run = LocalRun(pipeline, options)
        server = ControlServer(run, _socket_of(run.run_id), log_path=run.log_path,
                               pipeline_source=str(pipeline.source)).start()
    except OSError as error:
        sys.stderr.write(f"ail-tui: cannot serve the run: {error}\n")
        return 1
    started = threading.Event()
    run.subscribe(lambda event: started.set() if isinstance(event, ev.RunStarted) else None)
    note = new_note(run.run_id, str(pipeline.source), run.log_path, detached=owner is None,
                    cwd=options.cwd)
    try:
        write_note(note)
        run.start()
        if owner is not None:
            threading.Thread(target=_follow_owner, args=(run, server, owner, note),
                             name="run-owner", daemon=True).start()
        started.wait(READY_SECONDS)
        _say(ready_fd, f"run {run.run_id}")
        _keep_errors(run.run_id)
        result = run_to_end(run, lambda: remove_note(run.run_id))
    finally:
        server.close()
        remove_note(run.run_id)
        _drop_errors(run.run_id)
    return exit_code(result)


OWNER_POLL_SECONDS = 0.2


def _follow_owner(run: LocalRun, server: ControlServer, owner: int, note: LiveRun) -> None:
    """Cancel the run when ``owner`` goes away without releasing it first."""
    while run.wait(OWNER_POLL_SECONDS) is None:
        if server.released.is_set():
            write_note(replace(note, detached=True))
            return
        if not process_alive(owner):
            run.cancel(f"the dashboard that started the run (pid {owner}) went away",
                       by="user")
            return


def _socket_of(run_id: str) -> Path:
    runtime_dir(create=True)
    return socket_path(run_id)


def _say(fd: int, text: str) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, (text + "\n").encode("utf-8"))
        os.close(fd)


def _keep_errors(run_id: str) -> None:
    """Send what would go to a terminal (a crash's traceback) to ``<run_id>.stderr``."""
    with contextlib.suppress(OSError):
        path = runtime_dir() / f"{run_id}.stderr"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 2)
        os.close(fd)


def _drop_errors(run_id: str) -> None:
    """A run that ended normally leaves no empty error file behind."""
    with contextlib.suppress(OSError):
        path = runtime_dir() / f"{run_id}.stderr"
        if path.stat().st_size == 0:
            path.unlink()
