"""What every loopback HTTP stand-in of the tests shares: a server whose handler threads
never block shutdown, and a handler that writes, streams and notices a client hanging up."""

from __future__ import annotations

import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ClientGone(Exception):
    """The client closed its connection (or the server is stopping)."""


class LoopbackHttpServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 whose handler threads never block shutdown."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.disconnected = threading.Event()
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def start(self) -> threading.Thread:
        """Serve on a daemon thread."""
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.01})
        thread.daemon = True
        thread.start()
        return thread

    def stop(self) -> None:
        """Wake sleeping handlers, stop serving and close the listening socket."""
        self.stopping.set()
        self.shutdown()
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client disconnects are expected here; stay quiet."""


class LoopbackHandler(BaseHTTPRequestHandler):
    """A quiet HTTP/1.0 handler with helpers to answer, stream and wait."""

    server: LoopbackHttpServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def _send(self, status: int, content_type: str, text: str,
              headers: dict[str, str] | None = None) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _write(self, text: str) -> None:
        self.wfile.write(text.encode("utf-8"))
        self.wfile.flush()

    def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, raising :class:`ClientGone` as soon as the client hangs up."""
        deadline = time.monotonic() + seconds
        conn: socket.socket = self.connection
        while (left := deadline - time.monotonic()) > 0:
            if self.server.stopping.is_set():
                raise ClientGone
            readable, _, _ = select.select([conn], [], [], min(left, 0.02))
            if readable and not conn.recv(1, socket.MSG_PEEK):
                raise ClientGone
