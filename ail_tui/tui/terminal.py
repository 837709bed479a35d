"""The dashboard's terminal driver: Textual's Linux driver, made to end cleanly when a stop
signal comes or its terminal goes away (decisions A6 and D5).

When the terminal closes (a hang-up), Textual's driver alone would spin and then hang:
its input thread reads nothing, at once, forever (a busy loop), and its writer thread
dies on the first failed write, after which the app blocks on the writer's full queue.
Here failed writes are dropped, a hang-up is noticed by a watcher thread that stops the
input thread, and either a stop signal or the hang-up posts :class:`StopRequested` to the
app (see :mod:`ail_tui.tui.stop_signals`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import termios
import threading
from typing import IO, TYPE_CHECKING, Any

from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

from ail_tui.tui.stop_signals import StopSignals

if TYPE_CHECKING:
    from textual.app import App

WATCH_MILLISECONDS = 500
"""How often the hang-up watcher looks up from waiting (to end with the app)."""

RESTORE_SEQUENCES = (
    "\x18"  # CAN: ends an escape sequence the writer thread may have left half-written
    "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l"  # mouse tracking off
    "\x1b[?2004l\x1b[?2048l\x1b[?1004l"  # bracketed paste, resize and focus reports off
    "\x1b[<u"  # the kitty keyboard protocol's flags popped
    "\x1b[?7h"  # line wrap on
    "\x1b[?1049l\x1b[?25h"  # the main screen back, the cursor shown
)
"""What Textual's driver writes when it leaves application mode, in one write."""


class StopRequested(Message):
    """Stop the dashboard: a stop signal came or the terminal closed."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class _Output:
    """The terminal's output for Textual's writer thread: a failed write is dropped (the
    writer thread would die of it, and the app then block on its full queue)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError, ValueError):
            return self._stream.write(text)
        return 0

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()


class DashboardDriver(LinuxDriver):
    """Textual's Linux driver, with stop signals and a terminal that may go away."""

    def __init__(self, app: App[Any], *, debug: bool = False, mouse: bool = True,
                 size: tuple[int, int] | None = None) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self._output = _Output(self._file)  # type: ignore[arg-type]
        self._file = self._output  # type: ignore[assignment]
        self._stops: StopSignals | None = None
        self._watch_ended = threading.Event()
        self._watcher: threading.Thread | None = None
        self._app_mode = False

    def start_application_mode(self) -> None:
        """Enter application mode; stop signals and hang-ups are handled from now on."""
        super().start_application_mode()  # type: ignore[no-untyped-call]
        self._app_mode = self._writer_thread is not None
        if self._stops is None:
            self._stops = StopSignals(asyncio.get_running_loop(), self._stop, self)
            self._stops.install()
        if self.input_tty and self._watcher is None:
            self._watch_ended = threading.Event()
            self._watcher = threading.Thread(target=self._watch, args=(self._watch_ended,),
                                             name="ail-tui-hangup", daemon=True)
            self._watcher.start()

    def stop_application_mode(self) -> None:
        """Leave application mode (the hang-up watcher ends with it)."""
        self._watch_ended.set()
        self._watcher = None
        super().stop_application_mode()
        self._app_mode = False

    def close(self) -> None:
        """The app has ended: the stop signals go back to their previous handlers."""
        super().close()
        if self._stops is not None:
            self._stops.uninstall()

    # -- the terminal, for stop signals ------------------------------------------------

    def gone(self) -> bool:
        """Whether the terminal has hung up or closed (its attributes cannot be read)."""
        if not self.input_tty:
            return False
        try:
            termios.tcgetattr(self.fileno)
        except termios.error:
            return True
        return False

    def restore(self, farewell: str = "") -> None:
        """Leave application mode now, from any thread or a signal handler; then write
        ``farewell``. For a forced exit: Textual's own way waits for its threads."""
        if self._app_mode:
            self._app_mode = False
            with contextlib.suppress(OSError):
                os.write(self._output.fileno(), RESTORE_SEQUENCES.encode())
            if self.attrs_before is not None:
                with contextlib.suppress(termios.error):
                    termios.tcsetattr(self.fileno, termios.TCSANOW, self.attrs_before)
        if farewell:
            with contextlib.suppress(OSError):
                os.write(self._output.fileno(), farewell.encode())

    # -- stopping ----------------------------------------------------------------------

    def _stop(self, reason: str) -> None:
        """On the loop, at the first stop: the app is asked to stop."""
        if self.gone():
            self.exit_event.set()  # Textual's input thread would read nothing, forever
        self._app.post_message(StopRequested(reason))

    def _watch(self, ended: threading.Event) -> None:
        """Wait for the terminal to hang up (no signal needed): then stop."""
        poller = select.poll()
        poller.register(self.fileno, 0)  # hang-ups and errors are always reported
        while not ended.is_set():
            if not poller.poll(WATCH_MILLISECONDS):
                continue
            if self.gone():
                self.exit_event.set()
                if self._stops is not None:
                    self._stops.request("dashboard's terminal closed")
                return
            ended.wait(WATCH_MILLISECONDS / 1000)  # a report, not a hang-up


def dashboard_driver() -> type[Driver] | None:
    """The dashboard's driver, unless Textual was told to use another (TEXTUAL_DRIVER)."""
    return None if os.environ.get("TEXTUAL_DRIVER") else DashboardDriver
