"""A run of another process, reached over its control channel: a :class:`RunHandle`.

The dashboard, ``attach --headless`` and the CLI's controls use it exactly as they use a
run of their own: :meth:`RemoteRun.subscribe` hands over every event from the run's
first, then each new one; the controls ask the run and return its answer.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ail_tui.engine import events as ev
from ail_tui.engine.event_codec import MAX_EVENT_BYTES, BadEvent, decode_event
from ail_tui.engine.event_stream import EventStream
from ail_tui.engine.run_types import EventSink, RunResult, RunStatus
from ail_tui.gc_control import full_collections_deferred
from ail_tui.orchestration.control_protocol import PROTOCOL, encode_request
from ail_tui.runners.permissions import PermissionDecision

CONNECT_SECONDS = 10.0
"""How long a run that is still starting (its process loads the engine) may take to
listen."""
REPLY_SECONDS = 10.0
"""How long a control waits for the run's answer."""
LOST = "ail:control/lost"
"""The error type of a run whose connection ended before the run did."""


class ControlError(OSError):
    """The run could not be reached, refused, or went away before answering."""


def _connect(path: Path, within: float) -> socket.socket:
    """A connection to the socket at ``path``; a run still starting (no socket yet, or
    not listening yet) is tried again for ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            connection.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError) as error:
            connection.close()
            if time.monotonic() >= deadline:
                raise ControlError(f"cannot reach the run at {path}: "
                                   f"{error.strerror or error}") from error
            time.sleep(0.05)
            continue
        except OSError as error:
            connection.close()
            raise ControlError(f"cannot reach the run at {path}: "
                               f"{error.strerror or error}") from error
        connection.settimeout(None)
        return connection


class RemoteRun:
    """A live run of another process, reached through the socket at ``path``."""

    def __init__(self, path: Path, *, connect_timeout: float = CONNECT_SECONDS) -> None:
        self.path = path
        self._socket = _connect(path, connect_timeout)
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._waiting: dict[int | None, _Answer] = {}
        self._lock = threading.Lock()
        self.events = EventStream()
        self._result: RunResult | None = None
        self._ended = threading.Event()
        self._closed = threading.Event()
        self._subscribed = False
        self._paused = False
        self.lost: str | None = None
        """Why the connection ended before the run did (None: it did not)."""
        threading.Thread(target=self._read, name="remote-run", daemon=True).start()
        hello = self._ask("hello")
        if not isinstance(hello, dict) or hello.get("protocol") != PROTOCOL:
            self.close()
            raise ControlError(f"the run at {path} speaks another protocol version")
        self._run_id = str(hello.get("run_id"))
        self.pid = int(hello.get("pid") or 0)
        self.pipeline_source: str | None = hello.get("pipeline_source")
        log_path = hello.get("log_path")
        self.log_path = Path(log_path) if isinstance(log_path, str) else None

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self._run_id

    # -- events --------------------------------------------------------------------------

    def follow(self) -> None:
        """Ask the run for its events, once (they are kept here for every subscriber).

        Raises :class:`ControlError` when the run went away before it could answer.
        """
        with self._lock:
            if self._subscribed:
                return
            self._subscribed = True
        self._ask("subscribe")

    def subscribe(self, sink: EventSink) -> Callable[[], None]:
        """Hand ``sink`` every event from the run's first, then each new one (a run gone
        meanwhile ends with the ``ail:control/lost`` event)."""
        with contextlib.suppress(ControlError):
            self.follow()
        return self.events.subscribe(sink)

    def _read(self) -> None:
        """Take the run's lines until it closes the connection. Meanwhile no full garbage
        collection runs in this process: a viewer keeps every event, and a collection
        over all of them would stall the dashboard the way it would stall a run."""
        reader = self._socket.makefile("rb")
        why = "the run's process closed the connection"
        try:
            with full_collections_deferred():
                while True:
                    line = reader.readline(MAX_EVENT_BYTES + 1)
                    if not line:
                        break
                    self._take(line)
        except (OSError, ValueError) as error:
            why = f"the connection to the run broke: {error}"
        finally:
            reader.close()
            self._lost(why)
            self._closed.set()

    def _take(self, line: bytes) -> None:
        if line.startswith(b'{"reply"'):  # events start with '{"at"' (sorted keys)
            data = json.loads(line)
            with self._lock:
                answer = self._waiting.pop(data.get("reply"), None)
            if answer is not None:
                answer.set(data)
            elif data.get("ok") is False:  # refused before any request (not the owner)
                self._lost(str(data.get("error")))
            return
        try:
            event = decode_event(line)
        except BadEvent as error:
            event = ev.Warning_(message=f"an event from the run could not be read: {error}")
        if isinstance(event, ev.RunPaused | ev.RunResumed):
            self._paused = isinstance(event, ev.RunPaused)
        self.events.emit(event)
        if isinstance(event, ev.TERMINAL):
            self._result = _result_of(self._run_id, event)
            self._ended.set()

    def _lost(self, why: str) -> None:
        """The connection ended. Before the run's end, a viewer is told by one last
        event of its own making (``ail:control/lost``): the run is over for it."""
        with self._lock:
            first = self.lost is None and not self._ended.is_set()
            if first:
                self.lost = why
            waiting, self._waiting = self._waiting, {}
        for answer in waiting.values():
            answer.set({"ok": False, "error": why})
        if first and self._subscribed:
            self.events.emit(ev.PipelineError(error=f"lost the run: {why}",
                                              error_type=LOST, status="failed"))
        self._ended.set()

    # -- controls ------------------------------------------------------------------------

    def _ask(self, op: str, **args: Any) -> Any:
        """Send a request and wait for its reply's value (ControlError: refused or lost)."""
        request_id = next(self._ids)
        answer = _Answer()
        with self._lock:
            if self.lost is not None:
                raise ControlError(self.lost)
            self._waiting[request_id] = answer
        try:
            with self._send_lock:
                self._socket.sendall(encode_request(request_id, op, **args))
        except OSError as error:
            with self._lock:
                self._waiting.pop(request_id, None)
            raise ControlError(f"the run went away: {error}") from error
        data = answer.wait(REPLY_SECONDS)
        if data is None:
            with self._lock:
                self._waiting.pop(request_id, None)
            raise ControlError(f"the run did not answer {op!r} within {REPLY_SECONDS:.0f} s")
        if not data.get("ok"):
            raise ControlError(str(data.get("error") or "refused"))
        return data.get("value")

    def status(self) -> dict[str, Any]:
        """The run's state and counts (as ``ps`` shows them)."""
        value = self._ask("status")
        return value if isinstance(value, dict) else {}

    def cancel(self, reason: str = "run cancelled by user", by: str = "user") -> None:
        """Cancel the run (nothing happens when it has already gone)."""
        with contextlib.suppress(ControlError):
            self._ask("cancel", reason=reason)

    def cancel_step(self, step_id: str, reason: str = "cancelled by user") -> bool:
        """Cancel one running or queued step; False when it is neither (or the run is gone)."""
        try:
            return bool(self._ask("cancel_step", step_id=step_id, reason=reason))
        except ControlError:
            return False

    def pause(self) -> None:
        """Start no new step until :meth:`resume`."""
        with contextlib.suppress(ControlError):
            self._ask("pause")

    def resume(self) -> None:
        """Go on after :meth:`pause`."""
        with contextlib.suppress(ControlError):
            self._ask("resume")

    @property
    def paused(self) -> bool:
        """Whether the run is paused (as its events last said)."""
        return self._paused

    def answer_gate(self, step_id: str, approved: bool = True, text: str | None = None) -> bool:
        """Answer a waiting human gate; False when none waits at ``step_id``."""
        try:
            return bool(self._ask("answer_gate", step_id=step_id, approved=approved, text=text))
        except ControlError:
            return False

    def answer_permission(self, request_id: str, decision: PermissionDecision) -> bool:
        """Decide a waiting tool-use permission request; False when none has that id."""
        try:
            return bool(self._ask("answer_permission", request_id=request_id,
                                  allow=decision.allow, for_step=decision.for_step,
                                  reason=decision.reason))
        except ControlError:
            return False

    def release(self) -> bool:
        """Leave a run this process started running after it exits (else its end
        cancels the run); whether the run heard it."""
        try:
            self._ask("release")
        except ControlError:
            return False
        return True

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """How the run ended (None: still running after ``timeout`` seconds).

        A connection lost before the run's end gives a failed result saying so.
        """
        if not self._ended.wait(timeout):
            return None
        if self._result is None:
            return RunResult(self._run_id, RunStatus.FAILED, error_type=LOST, error=self.lost)
        return self._result

    def wait_gone(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for the run's process to be done with it
        (it closes the connection once the run's processes are ended); whether it was."""
        return self._closed.wait(timeout)

    def close(self) -> None:
        """Leave the run (it goes on)."""
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()


class _Answer:
    def __init__(self) -> None:
        self._event = threading.Event()
        self.data: dict[str, Any] | None = None

    def set(self, data: dict[str, Any]) -> None:
        self.data = data
        self._event.set()

    def wait(self, timeout: float) -> dict[str, Any] | None:
        return self.data if self._event.wait(timeout) else None


def _result_of(run_id: str, event: ev.Event) -> RunResult:
    """A finished run's result from its last event."""
    if isinstance(event, ev.PipelineCompleted):
        status = RunStatus.BREAK if event.outcome == "break" else RunStatus.COMPLETED
        return RunResult(run_id, status, step_id=event.step_id)
    assert isinstance(event, ev.PipelineError)
    try:
        status = RunStatus(event.status)
    except ValueError:
        status = RunStatus.FAILED
    return RunResult(run_id, status, error_type=event.error_type, error=event.error)
