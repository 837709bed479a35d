"""The OpenAI-compatible HTTP runner (``http``) and its Ollama flavour (``ollama``).

One ``POST {base_url}/chat/completions`` per prompt, streamed over SSE by default. Conversations
live in a :class:`ConversationStore` so ``resume`` steps continue them. Cancelling shuts the
socket down, so a thread blocked waiting for headers or the next chunk wakes at once; a cancel
during the connect itself abandons the request.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ail_tui.cancel import CancelToken
from ail_tui.credentials import mask, masked_sink
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import (
    RunnerError,
    RunnerEventSink,
    RunnerRequest,
    RunnerResult,
    completed_event,
)
from ail_tui.runners.http_history import ConversationStore, build_messages
from ail_tui.runners.sse import (
    DONE,
    Reply,
    ReplyError,
    StreamAccumulator,
    iter_sse_data,
    parse_completion,
    parse_json,
)

DEFAULT_BASE_URL = "http://localhost:11434/v1"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 300.0
ERROR_BODY_LIMIT = 500
NO_MODEL = (
    "HttpRunner: no model specified; set model: in the step or defaults, --model, "
    "or AIL_HTTP_MODEL"
)
_SAMPLING_FIELDS = (
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("top_k", "top_k"),
    ("max_tokens", "max_tokens"),
    ("stop_sequences", "stop"),
)
_CONNECTED = ("connect_tcp.complete", "connect_unix_socket.complete", "start_tls.complete")
_MAX_ERROR_READ = 64 * 1024

__all__ = ["ConversationStore", "HttpConfig", "HttpRunner", "build_body", "http_base_url",
           "resolve_config"]


@dataclass(frozen=True)
class HttpConfig:
    """Where and how to send a request, after request fields and environment fallbacks."""

    base_url: str
    token: str | None
    model: str
    think: bool | None
    connect_timeout: float
    read_timeout: float


def resolve_config(request: RunnerRequest, env: Mapping[str, str] | None = None) -> HttpConfig:
    """Request fields, then ``AIL_HTTP_*`` variables, then defaults; a model is required."""
    env = os.environ if env is None else env
    model = request.model or env.get("AIL_HTTP_MODEL")
    if not model:
        raise RunnerError(ErrorType.RUNNER_INVOCATION_FAILED, NO_MODEL)
    base_url = http_base_url(request.base_url, env)
    if "thinking" in request.sampling and request.sampling["thinking"] is not None:
        think: bool | None = float(request.sampling["thinking"]) >= 0.5
    elif "AIL_HTTP_THINK" in env:
        think = env["AIL_HTTP_THINK"].strip().lower() != "false"
    else:
        think = None
    return HttpConfig(
        base_url=base_url,
        token=request.auth_token or env.get("AIL_HTTP_TOKEN") or None,
        model=model,
        think=think,
        connect_timeout=_or(request.connect_timeout_seconds, DEFAULT_CONNECT_TIMEOUT),
        read_timeout=_or(request.read_timeout_seconds, DEFAULT_READ_TIMEOUT),
    )


def http_base_url(configured: str | None, env: Mapping[str, str]) -> str:
    """The provider's base URL, else ``AIL_HTTP_BASE_URL``, else Ollama's local address."""
    return (configured or env.get("AIL_HTTP_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def _or(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def build_body(
    request: RunnerRequest,
    config: HttpConfig,
    messages: list[dict[str, Any]],
    *,
    ollama: bool,
    stream: bool,
) -> dict[str, Any]:
    """The ``/chat/completions`` JSON body; unset optional fields are left out."""
    body: dict[str, Any] = {"model": config.model, "messages": messages}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if config.think is not None:
        body["think"] = config.think
    for key, name in _SAMPLING_FIELDS:
        value = request.sampling.get(key)
        if value is not None:
            body[name] = list(value) if isinstance(value, tuple) else value
    if request.output_schema is not None:
        if ollama:
            body["format"] = request.output_schema
        else:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": request.output_schema, "strict": True},
            }
    return body


class _ConnectionGuard:
    """Collects the request's sockets (via httpx's trace hook) so a cancel can shut them down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._aborted = False

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpx ``trace`` extension callback: remember each newly connected socket."""
        if not name.endswith(_CONNECTED):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            aborted = self._aborted
        if aborted:
            _shutdown(sock)

    def abort(self) -> None:
        """Shut every socket down (now and any connected later), waking blocked reads."""
        with self._lock:
            self._aborted = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)


_ssl_lock = threading.Lock()
_ssl_cache: list[ssl.SSLContext] = []


def _ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once: loading the CA bundle costs ~0.1 s a client."""
    with _ssl_lock:
        if not _ssl_cache:
            _ssl_cache.append(httpx.create_ssl_context())
        return _ssl_cache[0]


def _shutdown(sock: socket.socket) -> None:
    # The base-class method, so a TLS socket is cut without touching its SSL state.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class HttpRunner:
    """Sends prompts to an OpenAI-compatible ``/chat/completions`` endpoint."""

    def __init__(
        self, store: ConversationStore, *, ollama: bool = False, stream: bool = True
    ) -> None:
        self.name = "ollama" if ollama else "http"
        self.store = store
        self.ollama = ollama
        self.stream = stream

    def invoke(
        self, request: RunnerRequest, emit: RunnerEventSink, cancel: CancelToken
    ) -> RunnerResult:
        """Send the prompt, stream its deltas to ``emit``; raise :class:`RunnerError`."""
        if cancel.cancelled:
            raise _cancelled()
        config = resolve_config(request)
        session_id = request.resume_session_id
        history = self.store.get(session_id) if session_id else None
        messages = build_messages(request, history)
        body = build_body(request, config, messages, ollama=self.ollama, stream=self.stream)
        headers = {"Content-Type": "application/json"}
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        send = _guarded_sink(emit, cancel, config.token)
        guard = _ConnectionGuard()
        outcome: list[Reply | Exception] = []
        settled = threading.Event()  # the exchange ended, or the step was cancelled

        def exchange() -> None:
            client = httpx.Client(
                timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout,
                                      pool=config.connect_timeout),
                verify=_ssl_context(),
            )
            try:
                outcome.append(self._exchange(client, config, body, headers, guard, send,
                                              cancel))
            except Exception as exc:
                outcome.append(exc)
            finally:
                client.close()
                settled.set()

        def cancelled() -> None:
            guard.abort()
            settled.set()

        # The exchange runs on its own thread so that a cancel returns at once even while
        # the connection is still being made (a connect cannot be interrupted): the
        # request is then abandoned and its thread ends by itself.
        unregister = cancel.on_cancel(cancelled)
        threading.Thread(target=exchange, name=f"http-{request.step_id}", daemon=True).start()
        settled.wait()
        unregister()
        if cancel.cancelled or not outcome:
            raise _cancelled()
        reply = outcome[0]
        if isinstance(reply, RunnerError):
            raise RunnerError(reply.error_type, mask(reply.detail, config.token))
        if isinstance(reply, Exception):
            raise _failed(_describe(reply, config), config.token)
        session_id = session_id or str(uuid.uuid4())
        self.store.put(session_id, [*messages, {"role": "assistant", "content": reply.text}])
        result = RunnerResult(
            response=reply.text,
            cost_usd=_cost(request, reply),
            session_id=session_id,
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            thinking=reply.thinking,
            model=reply.model or config.model,
        )
        send(completed_event(result))
        return result

    def _exchange(
        self,
        client: httpx.Client,
        config: HttpConfig,
        body: dict[str, Any],
        headers: dict[str, str],
        guard: _ConnectionGuard,
        send: RunnerEventSink,
        cancel: CancelToken,
    ) -> Reply:
        url = f"{config.base_url}/chat/completions"
        with client.stream(
            "POST",
            url,
            content=json.dumps(body).encode("utf-8"),
            headers=headers,
            extensions={"trace": guard.trace},
        ) as response:
            if not response.is_success:
                text = mask(_read_some(response), config.token)
                raise _failed(f"HTTP {response.status_code}: {text[:ERROR_BODY_LIMIT]}")
            content_type = response.headers.get("content-type", "").lower()
            try:
                if not self.stream or content_type.startswith("application/json"):
                    return parse_completion(parse_json(response.read()))
                return _read_stream(response, send, cancel)
            except ReplyError as exc:
                raise _failed(str(exc)) from None


def _read_stream(response: httpx.Response, send: RunnerEventSink, cancel: CancelToken) -> Reply:
    """Fold the SSE stream into a reply, emitting each delta as it arrives."""
    acc = StreamAccumulator()
    done = False
    for payload in iter_sse_data(response.iter_lines()):
        if cancel.cancelled:
            raise _cancelled()
        if payload.strip() == DONE:
            done = True
            break
        for event in acc.feed(payload):
            send(event)
    if not done and acc.finish_reason is None:
        raise _failed("HttpRunner: stream ended early")
    return acc.reply()


def _read_some(response: httpx.Response) -> str:
    """Up to 64 KiB of an error body, decoded leniently and stripped."""
    data = bytearray()
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) >= _MAX_ERROR_READ:
                break
    except httpx.HTTPError:
        pass
    return data.decode("utf-8", errors="replace").strip()


def _describe(exc: Exception, config: HttpConfig) -> str:
    """``Transport error: ...`` for an httpx failure (timeouts name their limit)."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return f"Transport error: connect timed out after {config.connect_timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"Transport error: read timed out after {config.read_timeout:g} s"
    message = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"Transport error: cannot connect to {config.base_url}: {message}"
    if isinstance(exc, httpx.HTTPError | httpx.InvalidURL | OSError):
        return f"Transport error: {message}"
    return f"HttpRunner: {type(exc).__name__}: {message}"


def _cost(request: RunnerRequest, reply: Reply) -> float | None:
    if request.input_cost_per_1k is None and request.output_cost_per_1k is None:
        return None
    return (
        reply.input_tokens / 1000 * (request.input_cost_per_1k or 0.0)
        + reply.output_tokens / 1000 * (request.output_cost_per_1k or 0.0)
    )


def _guarded_sink(emit: RunnerEventSink, cancel: CancelToken, token: str | None) -> RunnerEventSink:
    """``emit`` with the token masked, and silent once cancelled."""
    masked = masked_sink(emit, token)

    def send(event: dict[str, Any]) -> None:
        if not cancel.cancelled:
            masked(event)

    return send


def _failed(detail: str, token: str | None = None) -> RunnerError:
    return RunnerError(ErrorType.RUNNER_INVOCATION_FAILED, mask(detail, token))


def _cancelled() -> RunnerError:
    return RunnerError(ErrorType.RUNNER_CANCELLED, "cancelled")
