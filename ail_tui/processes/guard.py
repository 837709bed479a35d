"""Spawning step processes so that none outlives the run's process, whatever ends it.

Every step process starts in a session of its own (its own process group), with a mark
in its environment naming this process, the run and the step. A watchdog process,
started with the first step process, ends every announced group and every marked process
when this process goes away, even by ``kill -9`` (decisions D5).
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Mapping
from typing import IO, Any

from ail_tui.processes.marks import MARK_VARIABLE, signal_marked


class StepMark:
    """The block of :meth:`ProcessGuard.step`: its mark is the current one inside it."""

    __slots__ = ("_reset", "_scope", "mark")
    _reset: contextvars.Token[str | None]

    def __init__(self, scope: contextvars.ContextVar[str | None], mark: str) -> None:
        self._scope = scope
        self.mark = mark

    def __enter__(self) -> str:
        self._reset = self._scope.set(self.mark)
        return self.mark

    def __exit__(self, *exc: object) -> None:
        self._scope.reset(self._reset)


class ProcessGuard:
    """This process's step processes: their marks, their groups, and the watchdog."""

    def __init__(self) -> None:
        self.mark = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._groups: set[int] = set()
        self._watchdog: subprocess.Popen[str] | None = None
        self._pipe: IO[str] | None = None
        self._watchdog_failed = False
        self._scope: contextvars.ContextVar[str | None] = contextvars.ContextVar(
            "ail_tui_step_mark", default=None)
        self._steps = itertools.count(1)
        self._spawned: set[str] = set()  # run mark prefixes that started a process

    # -- marks -----------------------------------------------------------------------

    def run_mark(self, run_id: str) -> str:
        """The mark prefix shared by every process of one run."""
        return f"{self.mark}:{run_id}:"

    def step(self, run_id: str) -> StepMark:
        """Processes spawned on this thread inside the block carry a fresh step mark."""
        return StepMark(self._scope, f"{self.run_mark(run_id)}{next(self._steps)}")

    def current_mark(self) -> str:
        """The mark of processes spawned here now (see :meth:`step`); unique outside a step."""
        return self._scope.get() or f"{self.mark}:-:{next(self._steps)}"

    def end_marked(self, prefix: str, sig: int = signal.SIGKILL) -> int:
        """Signal every process whose mark starts with ``prefix``; returns how many."""
        return signal_marked(prefix, sig)

    def end_run(self, run_id: str) -> None:
        """Kill whatever a finished run's steps left running outside their groups."""
        prefix = self.run_mark(run_id)
        with self._lock:
            if prefix not in self._spawned:
                return  # it started no process: nothing to look for
            self._spawned.discard(prefix)
        signal_marked(prefix)

    # -- spawning --------------------------------------------------------------------

    def spawn(self, argv: list[str], mark: str, *, env: Mapping[str, str] | None = None,
              **popen: Any) -> subprocess.Popen[bytes]:
        """Start ``argv`` in a new session, marked ``mark`` and announced to the watchdog."""
        environ = dict(os.environ if env is None else env)
        environ[MARK_VARIABLE] = mark
        with self._lock:
            self._spawned.add(mark[: mark.rindex(":") + 1])
            if self._watchdog is None and not self._watchdog_failed:
                self._start_watchdog()  # first: a step process never lives unwatched
        process: subprocess.Popen[bytes] = subprocess.Popen(
            argv, env=environ, start_new_session=True, **popen)
        self._announce(f"+{process.pid}", add=process.pid)
        return process

    def release(self, pgid: int) -> None:
        """The group ``pgid`` has been ended: the watchdog no longer needs to."""
        self._announce(f"-{pgid}", discard=pgid)

    def kill_all(self) -> None:
        """SIGKILL every group and every marked process of this process, now."""
        with self._lock:
            groups = list(self._groups)
        for pgid in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        signal_marked(self.mark + ":")

    def _announce(self, line: str, *, add: int | None = None,
                  discard: int | None = None) -> None:
        with self._lock:
            if add is not None:
                self._groups.add(add)
            if discard is not None:
                self._groups.discard(discard)
            if self._watchdog is None and not self._watchdog_failed:
                self._start_watchdog()
            pipe = self._pipe
            if pipe is None:
                return
            try:
                pipe.write(line + "\n")
                pipe.flush()
            except (OSError, ValueError):
                self._pipe = None  # the watchdog is gone; groups are still ended here

    def _start_watchdog(self) -> None:
        try:
            self._watchdog = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WATCHDOG_MAIN, _PACKAGE_ROOT,
                 self.mark + ":"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, text=True,
            )
        except OSError:
            self._watchdog_failed = True  # groups are still ended by this process
            return
        self._pipe = self._watchdog.stdin


_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_WATCHDOG_MAIN = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
                  "from ail_tui.processes.watchdog import main; main()")
"""The watchdog starts bare (no site packages, no PYTHON* settings) and imports only this
package's standard-library modules."""


GUARD = ProcessGuard()
"""The guard of this process."""
