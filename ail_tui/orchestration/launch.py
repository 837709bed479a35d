"""Starting a run process (decisions A1): the same command again, as a new session's
leader, with ``--serve-fd N``. The run process checks the pipeline, publishes the run's
note (so ``ps``, ``attach`` and ``cancel`` find it at once, as ``starting``), says ``run
ID`` on that pipe, and only then loads the engine and starts the run (:func:`serve`); a
run on Temporal says it once its workflow has started (decisions O2).

Both sides here import none of the engine: the launching command only starts a process
and waits for one line, and the run process answers before the engine's imports.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ail_tui.engine.run_types import RunOptions
    from ail_tui.pipeline.loader import Pipeline

EXIT_NOT_STARTED = 2
READY_SECONDS = 10.0
"""How long the launching command waits for the run process's answer (normally well
under a second: it answers once the pipeline is checked)."""
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
    """In the run process: announce the run on ``ready_fd``, then run it behind a control
    channel (see :func:`ail_tui.orchestration.detached.serve`); the run's exit code."""
    from ail_tui.orchestration.live_runs import new_note, remove_note, write_note
    from ail_tui.orchestration.temporal_target import target_note

    run_id = options.settle_run_id()
    note = new_note(run_id, str(pipeline.source), None, detached=owner is None,
                    cwd=options.cwd, temporal=target_note(options.orchestration))
    try:
        write_note(note)
    except OSError as error:
        sys.stderr.write(f"ail-tui: cannot publish the run: {error}\n")
        return 1
    def announce() -> None:
        with contextlib.suppress(OSError):
            os.write(ready_fd, f"run {run_id}\n".encode())
        with contextlib.suppress(OSError):
            os.close(ready_fd)

    if options.orchestration is None:
        announce()  # before the engine loads: --detach returns at once
        announce = _nothing
    from ail_tui.orchestration.backends import open_or_say
    from ail_tui.orchestration.detached import keep_errors, run_served

    if options.orchestration is None:  # announced already: nothing reaches a terminal now
        keep_errors(run_id)
    opened = open_or_say(pipeline, options)
    if opened is None:
        remove_note(run_id)
        return EXIT_NOT_STARTED
    return run_served(opened, str(pipeline.source), note, owner, started=announce)


def _nothing() -> None:
    """Nothing to do."""
