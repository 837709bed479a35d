"""A loopback Anthropic Messages API for the tests that drive the real Claude Code CLI.

The CLI is pointed at it with ``ANTHROPIC_BASE_URL``. Tests choose the answers with
:meth:`AnthropicApi.play`: the Nth ``POST /v1/messages`` gets the Nth answer (the last one
repeats), so a tool use and the text that follows it are two answers. An answer is either

* a :class:`Reply`: content blocks (:class:`Text`, :class:`Thinking`, :class:`ToolUse`)
  streamed as real server-sent events (``message_start``, ``content_block_start``,
  ``content_block_delta`` with ``text_delta``/``thinking_delta``/``signature_delta``/
  ``input_json_delta``, ``content_block_stop``, ``message_delta`` with ``stop_reason`` and
  ``usage``, ``message_stop``) with ``chunk_delay`` between deltas, or as one JSON message
  when the client did not ask for a stream; or
* a :class:`Failure`: an HTTP status with the API's error JSON (``authentication_error``,
  ``rate_limit_error`` with ``retry-after``, ``api_error``, ``overloaded_error``).

A sub-agent's calls can be given their own answers with :meth:`AnthropicApi.route`: a call
whose first user message contains the route's marker (the sub-agent's prompt) takes its
answers from the route instead.

The ready-made scenarios (:func:`streamed_text`, :func:`two_text_blocks`,
:func:`tool_then_text`, :func:`write_then_text`, :func:`writes_then_text`,
:func:`slow_text`, :func:`failure`) return such lists (:func:`with_subagent` also sets a
route);
:func:`refused_base_url` is a port where nothing listens.

Every request, whatever its path, is recorded with its headers and JSON body
(``requests``); ``messages_requests()`` are the model calls, with the model, system prompt
and messages the CLI sent. ``POST /v1/messages/count_tokens`` is answered with a count,
``HEAD`` with 200 and any other path with the API's ``not_found_error``. ``disconnected`` is
set when a client hangs up mid-answer; ``delta_times`` holds when each delta was written.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from loopback_http import ClientGone, LoopbackHandler, LoopbackHttpServer

MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
JSON_CHUNK_CHARS = 12
"""A tool's input JSON is streamed in ``input_json_delta`` pieces of this many characters."""


@dataclass(frozen=True)
class Text:
    """A text block, streamed as one ``text_delta`` per chunk."""

    chunks: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.chunks)


@dataclass(frozen=True)
class Thinking:
    """A thinking block: ``thinking_delta`` per chunk, then one ``signature_delta``."""

    chunks: tuple[str, ...]
    signature: str = "c2lnbmF0dXJlLWxvb3BiYWNr"

    @property
    def text(self) -> str:
        return "".join(self.chunks)


@dataclass(frozen=True)
class ToolUse:
    """A tool call; its input is streamed as ``input_json_delta`` pieces."""

    name: str
    input: dict[str, Any]
    id: str = "toolu_01LoopbackRead"


Block = Text | Thinking | ToolUse


@dataclass(frozen=True)
class Reply:
    """One successful model answer."""

    blocks: tuple[Block, ...]
    usage: tuple[int, int] = (100, 20)
    """Input and output tokens: input in ``message_start``, output in ``message_delta``."""
    stop_reason: str | None = None
    """Default: ``tool_use`` when a block is a tool call, else ``end_turn``."""
    chunk_delay: float = 0.0
    model: str | None = None
    """Default: the model the request asked for."""

    @property
    def stop(self) -> str:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if any(isinstance(b, ToolUse) for b in self.blocks) else "end_turn"


@dataclass(frozen=True)
class Failure:
    """An HTTP error answer with the API's error body."""

    status: int
    error_type: str
    message: str
    retry_after: float | None = None


Answer = Reply | Failure

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
ERROR_MESSAGES = {
    401: "invalid x-api-key",
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    529: "Overloaded",
}


def streamed_text(*chunks: str, usage: tuple[int, int] = (100, 20)) -> list[Answer]:
    """One text block in several deltas."""
    return [Reply((Text(chunks or ("Hello", " from", " the loopback API.")),), usage=usage)]


def two_text_blocks(usage: tuple[int, int] = (120, 30)) -> list[Answer]:
    """Two text blocks in one message."""
    return [Reply((Text(("First ", "block.")), Text(("Second ", "block."))), usage=usage)]


def tool_then_text(file_path: str, answer: str = "The file says hello.") -> list[Answer]:
    """A ``Read`` of ``file_path`` (after some thinking), then a text answer."""
    return [
        Reply((Thinking(("I should read ", "the file.")),
               Text(("Let me read it.",)),
               ToolUse("Read", {"file_path": file_path})), usage=(200, 40)),
        Reply((Text((answer,)),), usage=(260, 15)),
    ]


def write_then_text(file_path: str) -> list[Answer]:
    """A ``Write`` of ``file_path`` (which needs permission), then a text answer."""
    return [
        Reply((ToolUse("Write", {"file_path": file_path, "content": "x"},
                       id="toolu_01LoopbackWrite"),), usage=(100, 12)),
        Reply((Text(("I could not write the file.",)),), usage=(140, 9)),
    ]


def writes_then_text(*file_paths: str, answer: str = "Done.") -> list[Answer]:
    """A ``Write`` of each of ``file_paths``, one answer each, then a text answer."""
    writes: list[Answer] = [
        Reply((ToolUse("Write", {"file_path": path, "content": f"line {number}\n"},
                       id=f"toolu_0{number}LoopbackWrite"),), usage=(100 + 20 * number, 12))
        for number, path in enumerate(file_paths, start=1)]
    return [*writes, Reply((Text((answer,)),), usage=(100 + 20 * len(file_paths) + 40, 4))]


SUBAGENT_PROMPT = "Read notes.txt and report what it says."


def with_subagent(server: AnthropicApi, file_path: str, *, background: bool = False) -> None:
    """The main agent starts a sub-agent (the ``Agent`` tool) that reads ``file_path``.

    The sub-agent's calls are routed by its prompt: a ``Read``, then its report. The main
    agent answers with text after the sub-agent's result (``background``: it goes on
    while the sub-agent runs, and answers again when it is told the sub-agent finished).
    """
    server.route(SUBAGENT_PROMPT, [
        Reply((ToolUse("Read", {"file_path": file_path}, id="toolu_02SubagentRead"),),
              usage=(150, 12)),
        Reply((Text(("notes.txt says hello.",)),), usage=(180, 8)),
    ])
    agent = ToolUse("Agent", {"description": "Read the notes", "prompt": SUBAGENT_PROMPT,
                              "subagent_type": "general-purpose",
                              "run_in_background": background}, id="toolu_01Agent")
    answers: list[Answer] = [Reply((agent,), usage=(100, 30))]
    if background:
        answers.append(Reply((Text(("Waiting for the sub-agent.",)),), usage=(130, 6)))
    answers.append(Reply((Text(("The sub-agent says the notes say hello.",)),),
                         usage=(160, 10)))
    server.play(answers)


def slow_text(chunks: int = 60, delay: float = 0.25) -> list[Answer]:
    """A long text streamed slowly (``chunks`` deltas, ``delay`` seconds apart)."""
    return [Reply((Text(tuple(f"word{i} " for i in range(chunks))),), chunk_delay=delay)]


def failure(status: int, retry_after: float | None = None,
            message: str | None = None) -> list[Answer]:
    """An HTTP ``status`` answer with the API's error JSON (and ``retry-after``)."""
    text = message or ERROR_MESSAGES.get(status, f"HTTP {status}")
    return [Failure(status, ERROR_TYPES.get(status, "api_error"), text, retry_after)]


def refused_base_url() -> str:
    """A loopback URL on a port where nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float

    @property
    def model(self) -> str | None:
        return self.body.get("model")

    @property
    def system_text(self) -> str:
        """The system prompt's text blocks joined by blank lines ("" when none)."""
        system = self.body.get("system")
        if isinstance(system, str):
            return system
        return "\n\n".join(b.get("text", "") for b in system or [] if isinstance(b, dict))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    def texts(self, role: str = "user") -> list[str]:
        """The text blocks of every message with ``role``, in order."""
        found = []
        for message in self.messages:
            if message.get("role") != role:
                continue
            content = message.get("content")
            if isinstance(content, str):
                found.append(content)
                continue
            found += [b["text"] for b in content or [] if b.get("type") == "text"]
        return found

    def tool_results(self) -> list[dict[str, Any]]:
        """The ``tool_result`` blocks the request carries."""
        return [b for m in self.messages if isinstance(m.get("content"), list)
                for b in m["content"] if b.get("type") == "tool_result"]


class AnthropicApi(LoopbackHttpServer):
    """The Messages API stand-in: the answers it plays and the requests it received."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.answers: list[Answer] = streamed_text()
        self.requests: list[Recorded] = []
        self.delta_times: list[float] = []
        self._served = 0
        self._routes: list[tuple[str, list[Answer], list[int]]] = []

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (the CLI appends ``/v1/messages``)."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def play(self, answers: list[Answer]) -> None:
        """Answer the next model calls with ``answers``, in order (the last one repeats)."""
        with self.lock:
            self.answers = list(answers)
            self._served = 0

    def route(self, marker: str, answers: list[Answer]) -> None:
        """Answer the calls whose first user message contains ``marker`` with ``answers``."""
        with self.lock:
            self._routes.append((marker, list(answers), [0]))

    def next_answer(self, body: dict[str, Any]) -> Answer:
        """The answer for one model call: its route's next one, else the main list's."""
        first = Recorded("POST", MESSAGES_PATH, {}, {"messages": body.get("messages", [])[:1]},
                         0.0).texts()
        with self.lock:
            for marker, answers, served in self._routes:
                if any(marker in text for text in first):
                    served[0] += 1
                    return answers[min(served[0] - 1, len(answers) - 1)]
            answer = self.answers[min(self._served, len(self.answers) - 1)]
            self._served += 1
            return answer

    def messages_requests(self) -> list[Recorded]:
        """The model calls received so far (``POST /v1/messages``), in order."""
        with self.lock:
            return [r for r in self.requests if r.method == "POST" and r.path == MESSAGES_PATH]

    def record(self, entry: Recorded) -> None:
        with self.lock:
            self.requests.append(entry)

def _sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


def _json_pieces(value: dict[str, Any]) -> Iterator[str]:
    text = json.dumps(value)
    for start in range(0, len(text), JSON_CHUNK_CHARS):
        yield text[start:start + JSON_CHUNK_CHARS]


def _usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0, "output_tokens": output_tokens,
            "service_tier": "standard"}


def _block_json(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": block.text}
    if isinstance(block, Thinking):
        return {"type": "thinking", "thinking": block.text, "signature": block.signature}
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}


class _Handler(LoopbackHandler):
    server: AnthropicApi

    def _record(self, body: dict[str, Any]) -> None:
        self.server.record(Recorded(self.command, urlsplit(self.path).path,
                                    dict(self.headers.items()), body, time.monotonic()))

    def do_HEAD(self) -> None:
        self._record({})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._record({})
        self._error(404, "not_found_error", f"no such path: {urlsplit(self.path).path}")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        self._record(body if isinstance(body, dict) else {"_json": body})
        path = urlsplit(self.path).path
        try:
            if path == COUNT_TOKENS_PATH:
                self._send_json(200, {"input_tokens": 100})
            elif path == MESSAGES_PATH:
                self._answer(body, self.server.next_answer(body))
            else:
                self._error(404, "not_found_error", f"no such path: {path}")
        except (ClientGone, BrokenPipeError, ConnectionResetError):
            self.server.disconnected.set()
        self.close_connection = True

    # --- answers -----------------------------------------------------------------------------

    def _answer(self, body: dict[str, Any], answer: Answer) -> None:
        if isinstance(answer, Failure):
            headers = {} if answer.retry_after is None else {
                "retry-after": f"{answer.retry_after:g}"}
            self._error(answer.status, answer.error_type, answer.message, headers)
            return
        model = answer.model or str(body.get("model") or "claude-loopback")
        number = len(self.server.messages_requests())
        message_id = f"msg_loopback_{number:04d}"
        if body.get("stream"):
            self._stream(answer, model, message_id)
            return
        self._send_json(200, {
            "id": message_id, "type": "message", "role": "assistant", "model": model,
            "content": [_block_json(b) for b in answer.blocks],
            "stop_reason": answer.stop, "stop_sequence": None,
            "usage": _usage(*answer.usage),
        })

    def _stream(self, reply: Reply, model: str, message_id: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("request-id", f"req_{message_id}")
        self.end_headers()
        input_tokens, output_tokens = reply.usage
        self._write(_sse("message_start", {"type": "message_start", "message": {
            "id": message_id, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": _usage(input_tokens, 1)}}))
        self._write(_sse("ping", {"type": "ping"}))
        first = True
        for index, block in enumerate(reply.blocks):
            start = _block_json(block)
            if isinstance(block, Text):
                start["text"] = ""
            elif isinstance(block, Thinking):
                start.update(thinking="", signature="")
            else:
                start["input"] = {}
            self._write(_sse("content_block_start", {
                "type": "content_block_start", "index": index, "content_block": start}))
            for delta in self._deltas(block):
                if not first:
                    self._pause(reply.chunk_delay)
                first = False
                self._write(_sse("content_block_delta", {
                    "type": "content_block_delta", "index": index, "delta": delta}))
                self.server.delta_times.append(time.monotonic())
            self._write(_sse("content_block_stop", {"type": "content_block_stop",
                                                    "index": index}))
        self._write(_sse("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens}}))
        self._write(_sse("message_stop", {"type": "message_stop"}))

    @staticmethod
    def _deltas(block: Block) -> Iterator[dict[str, Any]]:
        if isinstance(block, Text):
            for piece in block.chunks:
                yield {"type": "text_delta", "text": piece}
        elif isinstance(block, Thinking):
            for piece in block.chunks:
                yield {"type": "thinking_delta", "thinking": piece}
            yield {"type": "signature_delta", "signature": block.signature}
        else:
            for piece in _json_pieces(block.input):
                yield {"type": "input_json_delta", "partial_json": piece}

    def _error(self, status: int, error_type: str, message: str,
               headers: dict[str, str] | None = None) -> None:
        body = {"type": "error", "error": {"type": error_type, "message": message},
                "request_id": f"req_loopback_{status}"}
        self._send_json(status, body, headers)

    def _send_json(self, status: int, value: dict[str, Any],
                   headers: dict[str, str] | None = None) -> None:
        self._send(status, "application/json", json.dumps(value), headers)
