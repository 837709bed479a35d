"""Shell steps: ``/bin/sh -c`` as a guarded child process, streamed, with timeout and cancel.

The command's whole process group is signalled on timeout or cancel, and whatever it
left running is ended when it exits (:class:`~ail_tui.processes.children.Child`).
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from ail_tui.cancel import CancelToken
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.processes.children import Child
from ail_tui.runners.base import RunnerError

LineSink = Callable[[str, str], None]
"""Receives ``(stream, line)`` for each line of stdout or stderr."""


@dataclass
class ShellResult:
    """What a finished shell step produced."""

    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool = False
    cancelled: bool = False
    reconciled: bool = False
    """Recovered by the step's ``reconcile`` command after its attempt was lost (D3)."""


def _pump(pipe: IO[bytes], stream: str, parts: list[str], sink: LineSink | None) -> None:
    with pipe:
        for raw in iter(pipe.readline, b""):
            text = raw.decode("utf-8", "replace")
            parts.append(text)
            if sink is not None:
                sink(stream, text.rstrip("\n"))


def run_shell(
    command: str,
    cancel: CancelToken,
    *,
    timeout: float | None = None,
    on_line: LineSink | None = None,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
) -> ShellResult:
    """Run ``command`` verbatim with ``/bin/sh -c``; stdin is closed.

    Raises :class:`RunnerError` (``ail:runner/invocation-failed``) when the shell cannot be
    started; a timeout or cancellation is reported in the result.
    """
    try:
        child = Child(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env)
    except OSError as exc:
        raise RunnerError(ErrorType.RUNNER_INVOCATION_FAILED,
                          f"Could not start /bin/sh: {exc.strerror or exc}") from None
    process = child.process
    out: list[str] = []
    err: list[str] = []
    assert process.stdout is not None and process.stderr is not None
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, "stdout", out, on_line),
                         name=f"shell-out-{process.pid}", daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, "stderr", err, on_line),
                         name=f"shell-err-{process.pid}", daemon=True),
    ]
    for reader in readers:
        reader.start()
    unregister = cancel.on_cancel(child.terminate)
    try:
        timed_out = child.finish(readers, timeout)
    finally:
        unregister()
    code = process.returncode
    return ShellResult(
        stdout="".join(out),
        stderr="".join(err),
        exit_code=code if code is not None and code >= 0 else -1,
        timed_out=timed_out,
        cancelled=cancel.cancelled and not timed_out,
    )
