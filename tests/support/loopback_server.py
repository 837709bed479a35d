"""A loopback OpenAI-compatible chat server for the HTTP runner tests.

Tests set the scenario on the server object (``mode`` and friends) before invoking the runner;
every request is recorded with its headers and JSON body. Modes:

* ``json``: a plain chat completion (also when the client asked for a stream);
* ``sse``: ``chunks`` streamed with ``chunk_delay`` between them, then a usage chunk and
  ``[DONE]`` (``finish``/``done`` switch those off; ``cut_after`` stops after N chunks);
* ``status``: ``status`` with ``error_body`` (``echo_auth`` appends the Authorization header);
* ``bad_json``, ``bad_sse``: a malformed body or chunk;
* ``error_json``, ``error_sse``: an OpenAI ``error`` object in a 200 body or an SSE chunk.

``header_delay`` sleeps before any answer. ``disconnected`` is set when the client goes away;
``chunk_times`` holds when each content chunk was written.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"


class ClientGone(Exception):
    """The client closed its connection (or the server is stopping)."""


@dataclass
class Recorded:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class Scenario:
    """How the server answers; tests change the fields on ``server.scenario``."""

    mode: str = "json"
    text: str = "Hello from loopback"
    chunks: list[str] = field(default_factory=lambda: ["Hel", "lo ", "there"])
    thinking_chunks: list[str] = field(default_factory=list)
    reasoning: str | None = None
    chunk_delay: float = 0.0
    header_delay: float = 0.0
    usage: tuple[int, int] = (12, 34)
    model: str = "loop-model"
    finish: bool = True
    done: bool = True
    cut_after: int | None = None
    status: int = 500
    error_body: str = "internal trouble"
    echo_auth: bool = False


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 whose handler threads never block shutdown."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scenario = Scenario()
        self.requests: list[Recorded] = []
        self.disconnected = threading.Event()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.chunk_times: list[float] = []

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def pipeline_head(self, token: str) -> str:
        """The top of a pipeline whose provider is this server, priced per 1,000 tokens
        (0.5 in, 1.5 out) and authenticated with ``token``; its steps follow."""
        return (f'version: "1"\ndefaults:\n  model: loop-model\n  provider:\n'
                f"    base_url: {self.base_url}\n    auth_token: {token}\n"
                f"    input_cost_per_1k: 0.5\n    output_cost_per_1k: 1.5\npipeline:\n")

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


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        with self.server.lock:
            self.server.requests.append(
                Recorded(self.path, dict(self.headers.items()), body, time.monotonic())
            )
        try:
            self._answer(body)
        except (ClientGone, BrokenPipeError, ConnectionResetError):
            self.server.disconnected.set()
        self.close_connection = True

    def _answer(self, body: dict[str, Any]) -> None:
        sc = self.server.scenario
        self._pause(sc.header_delay)
        if self.path != CHAT_PATH:
            self._send(404, "application/json", json.dumps({"error": "no such path"}))
        elif sc.mode == "status":
            text = sc.error_body
            if sc.echo_auth:
                text += f" (you sent: {self.headers.get('Authorization')})"
            self._send(sc.status, "text/plain", text)
        elif sc.mode == "json":
            self._send(200, "application/json", json.dumps(self._completion(sc)))
        elif sc.mode == "bad_json":
            self._send(200, "application/json", '{"choices": [')
        elif sc.mode == "error_json":
            error = {"error": {"message": "model is overloaded", "type": "server_error"}}
            self._send(200, "application/json", json.dumps(error))
        else:
            self._stream(sc)

    def _completion(self, sc: Scenario) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": sc.text}
        if sc.reasoning is not None:
            message["reasoning_content"] = sc.reasoning
        return {
            "id": "cmpl-1",
            "object": "chat.completion",
            "model": sc.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": sc.usage[0], "completion_tokens": sc.usage[1]},
        }

    def _stream(self, sc: Scenario) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self._write(": keep-alive comment\n\nevent: message\n")
        for piece in sc.thinking_chunks:
            self._event({"reasoning_content": piece})
        for index, piece in enumerate(sc.chunks):
            if sc.cut_after is not None and index >= sc.cut_after:
                self.wfile.flush()
                return
            if index:
                self._pause(sc.chunk_delay)
            if sc.mode == "bad_sse" and index == 1:
                self._write("data: {this is not json\n\n")
                continue
            if sc.mode == "error_sse" and index == 1:
                self._write('data: {"error": {"message": "context length exceeded"}}\n\n')
                continue
            self._event({"content": piece})
            self.server.chunk_times.append(time.monotonic())
        if sc.finish:
            self._event({}, finish_reason="stop")
        usage = {"prompt_tokens": sc.usage[0], "completion_tokens": sc.usage[1]}
        self._write("data: " + json.dumps({"model": sc.model, "choices": [], "usage": usage}))
        self._write("\n\n")
        if sc.done:
            self._write("data: [DONE]\n\n")

    def _event(self, delta: dict[str, Any], finish_reason: str | None = None) -> None:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        chunk = {"id": "c1", "model": self.server.scenario.model, "choices": [choice]}
        self._write(f"data: {json.dumps(chunk)}\n\n")

    def _send(self, status: int, content_type: str, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
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
