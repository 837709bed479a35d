"""The run process of a detached run (decisions A1) or of a dashboard's run (A6): once
:mod:`.launch` has announced the run, :func:`run_served` runs it behind a control
channel until it ends (a closed terminal or SIGHUP never reaches it)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ail_tui.engine.run_handle import ServedRun
from ail_tui.headless import EXIT_NOT_STARTED, exit_code, run_to_end
from ail_tui.orchestration.backends import OpenRun, RunNotStarted
from ail_tui.orchestration.control_server import ControlServer
from ail_tui.orchestration.live_runs import (
    LiveRun,
    remove_note,
    runtime_dir,
    socket_path,
    write_note,
)
from ail_tui.processes.alive import process_alive


def run_served(opened: OpenRun, pipeline_source: str, note: LiveRun,
               owner: int | None = None, started: Callable[[], None] = lambda: None) -> int:
    """Start the ``opened`` run (as ``note`` announced it) and serve it behind a control
    channel until it ends; ``started`` is called once it runs. ``owner``: a process whose
    end cancels the run unless it sent ``release`` first (a dashboard killed mid-run
    leaves no run behind, D5). The run's exit code."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        run = opened.run
        try:
            server = ControlServer(run, _socket_of(run.run_id), log_path=run.log_path,
                                   pipeline_source=pipeline_source).start()
        except OSError as error:
            sys.stderr.write(f"ail-tui: cannot serve run {note.run_id}: {error}\n")
            return 1
        try:
            note = replace(note, log_path=str(run.log_path) if run.log_path else None)
            write_note(note)
            try:
                opened.start()
            except RunNotStarted as error:
                sys.stderr.write(f"ail-tui: {error}\n")
                return EXIT_NOT_STARTED
            started()
            keep_errors(note.run_id)  # the launcher has its answer
            if owner is not None:
                threading.Thread(target=_follow_owner, args=(run, server, owner, note),
                                 name="run-owner", daemon=True).start()
            result = run_to_end(run, lambda: remove_note(run.run_id), RUN_STOP_SIGNALS)
            if owner is not None:  # a run that ended before its dashboard came for it
                _await_owner(server, owner)
        finally:
            server.close()
            opened.close()
        return exit_code(result)
    finally:
        remove_note(note.run_id)


OWNER_POLL_SECONDS = 0.2
RUN_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""What stops a run process (SIGHUP does not: it has no terminal to lose, A1)."""


OWNER_WAIT_SECONDS = 10.0
"""How long a finished run waits for its dashboard's first look at it."""


def _await_owner(server: ControlServer, owner: int) -> None:
    """Keep serving a finished run until its owner has subscribed (or is gone)."""
    deadline = time.monotonic() + OWNER_WAIT_SECONDS
    while not server.followed.wait(OWNER_POLL_SECONDS):
        if time.monotonic() > deadline or not process_alive(owner):
            return


def _follow_owner(run: ServedRun, server: ControlServer, owner: int, note: LiveRun) -> None:
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


def keep_errors(run_id: str) -> None:
    """Send what would go to a terminal (a crash's traceback) to ``<run_id>.stderr``."""
    with contextlib.suppress(OSError):
        path = runtime_dir() / f"{run_id}.stderr"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 2)
        os.close(fd)
