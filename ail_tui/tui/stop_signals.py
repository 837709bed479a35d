"""Stop signals: SIGTERM, SIGINT or SIGHUP end the dashboard cleanly, a second one at once.

The first stop (a signal, or the terminal going away) is handed to the event loop, where
the app cancels its run, waits for the run to record its end and exits through Textual's
normal path, which restores the terminal. A second stop signal while that is under way
kills every step process, restores the terminal as well as it can and exits at once; so
does a backstop timer if the clean stop has not ended the process in time (decisions
A6 and D5). Ctrl-C in the dashboard is a key, not SIGINT; ``kill -INT`` is a stop signal.

Handlers are set with :func:`signal.signal`, not the loop's ``add_signal_handler``: the
second signal must act even while the loop is busy or blocked, so it is handled right in
the main thread; only the first stop's work is passed to the loop.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, NoReturn, Protocol

from ail_tui.engine.run_handle import RunHandle
from ail_tui.processes.guard import GUARD

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""``kill``/``timeout``/systemd/``docker stop``, ``kill -INT``, and a closed terminal."""
EXIT_INTERRUPTED = 130
"""The dashboard's exit code after a stop signal, as ``ail-tui run --headless``'s."""
RUN_END_SECONDS = 1.0
"""How long a stopping dashboard waits for its cancelled run to record its end."""
KILLED_RUN_SECONDS = 0.3
"""Then every step process is killed, and the run gets this much longer."""
FORCE_AFTER_SECONDS = 1.8
"""After the first stop, the process is gone within this long whatever happens."""
EXIT_AT_LATEST_SECONDS = 0.5
"""A forced exit's own deadline (a watchdog ends step processes the exit left alive)."""


class Terminal(Protocol):
    """What a forced exit needs from the terminal's owner (the driver)."""

    def gone(self) -> bool:
        """Whether the terminal has gone away (hung up, closed)."""
        ...

    def restore(self, farewell: str = "") -> None:
        """Leave application mode now, from any thread; then write ``farewell``."""
        ...


class StopSignals:
    """The stop signals of one running dashboard: installed on start, removed on close."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_stop: Callable[[str], None],
                 terminal: Terminal) -> None:
        """``on_stop(reason)`` is called once, on ``loop``, at the first stop."""
        self._loop = loop
        self._on_stop = on_stop
        self._terminal = terminal
        self._previous: dict[int, Any] = {}
        self._stopping = False  # a stop (of any kind) is under way
        self._signalled = False  # ... and a stop signal came
        self._backstop: threading.Timer | None = None

    def install(self) -> bool:
        """Handle the stop signals from now on; False off the main thread (not handled)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._received)
        return True

    def uninstall(self) -> None:
        """Give the signals back to their previous handlers (a pending backstop stays)."""
        previous, self._previous = self._previous, {}
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def request(self, reason: str) -> None:
        """Stop as at a first signal, for a reason that is not a signal (thread-safe)."""
        self._begin(reason)

    def _received(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._signalled and not (signum == signal.SIGHUP and self._terminal.gone()):
            # A closed terminal may send a hangup twice (the shell relays one, the kernel
            # sends one when the shell exits): only an insisting sender forces.
            self.force(f"second stop signal ({name})")
        self._signalled = True
        self._begin(f"dashboard got {name}")

    def _begin(self, reason: str) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._backstop = threading.Timer(
            FORCE_AFTER_SECONDS, self.force,
            args=(f"not stopped {FORCE_AFTER_SECONDS:g} s after {reason}",))
        self._backstop.daemon = True
        self._backstop.start()
        try:
            self._loop.call_soon_threadsafe(self._on_stop, reason)
        except RuntimeError:  # the loop is closed: nothing is left to stop cleanly
            self.force(reason)

    def force(self, why: str) -> NoReturn:
        """Kill every step process, restore the terminal, exit 130 — now, from any thread."""
        last_resort = threading.Timer(EXIT_AT_LATEST_SECONDS, os._exit, args=(EXIT_INTERRUPTED,))
        last_resort.daemon = True  # should a write to a stalled terminal block
        last_resort.start()
        GUARD.kill_all()
        self._terminal.restore(f"ail-tui: {why}: stopped at once, step processes killed "
                               "(the turn log may lack the run's end)\n")
        os._exit(EXIT_INTERRUPTED)


async def run_ended(run: RunHandle) -> bool:
    """Wait for a cancelled run to end (it records its end itself); if it is late, kill
    every step process and wait a moment more. Whether the run ended.
    """
    if await _ended(run, RUN_END_SECONDS):
        return True
    GUARD.kill_all()
    return await _ended(run, KILLED_RUN_SECONDS)


async def _ended(run: RunHandle, within: float) -> bool:
    deadline = time.monotonic() + within
    while run.wait(0) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return run.wait(0) is not None
