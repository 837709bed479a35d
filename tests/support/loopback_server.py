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
import time
from dataclasses import dataclass, field
from typing import Any

from loopback_http import ClientGone, LoopbackHandler, LoopbackHttpServer

CHAT_PATH = "/v1/chat/completions"


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


class LoopbackServer(LoopbackHttpServer):
    """The OpenAI-compatible stand-in: its scenario and the requests it received."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.scenario = Scenario()
        self.requests: list[Recorded] = []
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

class _Handler(LoopbackHandler):
    server: LoopbackServer

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
