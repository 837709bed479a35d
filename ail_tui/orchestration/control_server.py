"""A run's control channel: viewers in other processes follow and steer it (A3–A5, A7).

The server listens on a Unix socket (mode 0600, in this user's private runtime folder)
and checks each caller's uid (``SO_PEERCRED``): only the run's owner gets in. Each
viewer has two threads of its own: one reads its requests and acts on the run, one sends
it replies and events. The run hands a viewer's events to a queue and goes on, so a
viewer that stops reading never slows it: past :data:`MAX_BACKLOG` waiting events it is
cut off (it may attach again and gets everything from the first event). Nothing a viewer
sends can stop the run: a bad request gets an error reply, a broken connection is
closed, and every failure stays on the viewer's threads.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import struct
import threading
from pathlib import Path
from typing import Any

from ail_tui.engine import events as ev
from ail_tui.engine.event_codec import encode_event
from ail_tui.engine.run_handle import RunHandle
from ail_tui.orchestration.control_protocol import (
    MAX_REQUEST_BYTES,
    PROTOCOL,
    BadRequest,
    Request,
    decode_request,
    error_reply,
    reply,
)
from ail_tui.orchestration.run_progress import RunProgress
from ail_tui.runners.permissions import PermissionDecision

MAX_BACKLOG = 200_000
"""Events a viewer may leave unread before it is cut off."""
MAX_VIEWERS = 64
"""Viewers at once; one more is told so and closed."""
SEND_BATCH = 512
"""Events sent in one write when a viewer has fallen behind."""
_CLOSE = object()


def peer_uid(connection: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (None: unknown)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    size = struct.calcsize("3i")
    _pid, uid, _gid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, option, size))
    return int(uid)


class ControlServer:
    """Serves ``run`` on ``path`` until :meth:`close`."""

    def __init__(self, run: RunHandle, path: Path, *, pipeline_source: str | None = None,
                 log_path: Path | None = None) -> None:
        self.run = run
        self.path = path
        self.pipeline_source = pipeline_source
        self.log_path = log_path
        self.released = threading.Event()
        """Set by a ``release`` request: the run's owner left it running on purpose."""
        self.followed = threading.Event()
        """Set when a viewer first subscribes."""
        self.progress = RunProgress()
        self._unsubscribe = run.subscribe(self.progress)
        self._listener: socket.socket | None = None
        self._viewers: set[_Viewer] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def start(self) -> ControlServer:
        """Listen (the socket file is the owner's alone) and accept viewers on a thread."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old = os.umask(0o177)
        try:
            listener.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, name="control-accept", daemon=True).start()
        return self

    @property
    def viewers(self) -> int:
        """How many viewers are connected."""
        with self._lock:
            return len(self._viewers)

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                uid = peer_uid(connection)
            except OSError:
                uid = None
            if uid is not None and uid != os.geteuid():
                self._refuse(connection, "only the run's owner may attach to it")
                continue
            with self._lock:
                if len(self._viewers) >= MAX_VIEWERS:
                    full = True
                else:
                    full = False
                    viewer = _Viewer(self, connection)
                    self._viewers.add(viewer)
            if full:
                self._refuse(connection, f"too many viewers (at most {MAX_VIEWERS})")
                continue
            viewer.start()

    @staticmethod
    def _refuse(connection: socket.socket, why: str) -> None:
        with contextlib.suppress(OSError):
            connection.settimeout(1.0)
            connection.sendall(error_reply(None, why))
        connection.close()

    def forget(self, viewer: _Viewer) -> None:
        """A viewer left."""
        with self._lock:
            self._viewers.discard(viewer)

    def close(self, within: float = 2.0) -> None:
        """Stop serving: each viewer gets what is queued for it (for at most ``within``
        seconds), then its connection closes; the socket file is removed."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._unsubscribe()
        with self._lock:
            viewers = list(self._viewers)
        for viewer in viewers:
            viewer.finish(within)

    # -- requests ----------------------------------------------------------------------

    def act(self, request: Request, viewer: _Viewer) -> Any:
        """Carry out ``request`` for ``viewer``; its reply's value (BadRequest: refused)."""
        run, args = self.run, request.args
        match request.op:
            case "hello":
                return {"run_id": run.run_id, "pid": os.getpid(), "protocol": PROTOCOL,
                        "pipeline_source": self.pipeline_source,
                        "log_path": str(self.log_path) if self.log_path else None}
            case "subscribe":
                viewer.subscribe(request.id)
                return _ALREADY_REPLIED
            case "status":
                return self.progress.snapshot()
            case "cancel":
                run.cancel(args.get("reason", "run cancelled by user"), by="user")
                return None
            case "cancel_step":
                return run.cancel_step(args["step_id"], args.get("reason", "cancelled by user"))
            case "pause":
                run.pause()
                return None
            case "resume":
                run.resume()
                return None
            case "answer_gate":
                return run.answer_gate(args["step_id"], args.get("approved", True),
                                       args.get("text"))
            case "release":
                self.released.set()
                return None
            case "answer_permission":
                decision = PermissionDecision(args["allow"], args.get("for_step", False),
                                              args.get("reason", ""))
                return run.answer_permission(args["request_id"], decision)
        raise BadRequest(f"unknown request {request.op!r}", request.id)


_ALREADY_REPLIED = object()


class _Viewer:
    """One connected viewer: its reading thread, its writing thread and its queue."""

    def __init__(self, server: ControlServer, connection: socket.socket) -> None:
        self.server = server
        self.connection = connection
        self.outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.unsubscribe: Any = None
        self.gone = threading.Event()
        self._writer = threading.Thread(target=self._write, name="control-send", daemon=True)

    def start(self) -> None:
        self._writer.start()
        threading.Thread(target=self._read, name="control-read", daemon=True).start()

    # -- the run's side: never blocks ----------------------------------------------------

    def take(self, event: ev.Event) -> None:
        """An event of the run (called on the run's thread: queue it and return)."""
        if self.gone.is_set() or self.outbox.qsize() >= MAX_BACKLOG:
            self.unsubscribe = None  # raising is how the stream drops this subscriber
            self._drop()
            raise OverflowError("the viewer is gone or fell too far behind")
        self.outbox.put(event)

    def subscribe(self, request_id: int | None) -> None:
        if self.unsubscribe is not None:
            raise BadRequest("already subscribed", request_id)
        self.outbox.put(reply(request_id, None))
        self.unsubscribe = self.server.run.subscribe(self.take)
        self.server.followed.set()

    # -- the viewer's side ---------------------------------------------------------------

    def _read(self) -> None:
        reader = self.connection.makefile("rb")
        try:
            while not self.gone.is_set():
                line = reader.readline(MAX_REQUEST_BYTES + 1)
                if not line:
                    break
                if len(line) > MAX_REQUEST_BYTES and not line.endswith(b"\n"):
                    self.outbox.put(error_reply(
                        None, f"request over the limit of {MAX_REQUEST_BYTES} bytes"))
                    break  # the rest of the line cannot be told from the next request
                self._answer(line)
        except (OSError, ValueError):
            pass
        finally:
            reader.close()
            self.finish(within=1.0)

    def _answer(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            request = decode_request(line)
            value = self.server.act(request, self)
        except BadRequest as error:
            self.outbox.put(error_reply(error.request_id, str(error)))
            return
        except Exception as error:  # a viewer's request never takes the run down
            self.outbox.put(error_reply(None, f"request failed: {error}"))
            return
        if value is not _ALREADY_REPLIED:
            self.outbox.put(reply(request.id, value))

    def _write(self) -> None:
        try:
            while True:
                item = self.outbox.get()
                batch: list[bytes] = []
                while item is not _CLOSE:
                    batch.append(self._encode(item))
                    if len(batch) >= SEND_BATCH:
                        break
                    try:
                        item = self.outbox.get_nowait()
                    except queue.Empty:
                        break
                if batch:
                    self.connection.sendall(b"".join(batch))
                if item is _CLOSE:
                    return
        except OSError:
            pass
        finally:
            self._drop()

    @staticmethod
    def _encode(item: Any) -> bytes:
        if isinstance(item, bytes):
            return item
        try:
            return encode_event(item)
        except ValueError as error:
            step_id = getattr(item, "step_id", None)
            return encode_event(ev.Warning_(
                message=f"an event could not be sent to this viewer: {error}",
                step_id=step_id if isinstance(step_id, str) else None))

    # -- leaving -------------------------------------------------------------------------

    def finish(self, within: float) -> None:
        """Send what is queued (for at most ``within`` seconds), then close."""
        if self.gone.is_set():
            return
        self._stop_events()
        self.outbox.put(_CLOSE)
        if threading.current_thread() is not self._writer:
            self._writer.join(within)
        self._drop()

    def _stop_events(self) -> None:
        unsubscribe, self.unsubscribe = self.unsubscribe, None
        if callable(unsubscribe):
            unsubscribe()

    def _drop(self) -> None:
        if self.gone.is_set():
            return
        self.gone.set()
        self._stop_events()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()
        self.server.forget(self)
