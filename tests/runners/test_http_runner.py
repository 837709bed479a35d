"""The OpenAI-compatible HTTP runner against a loopback server: bodies, streams, errors, cancel."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from typing import Any

import pytest
from loopback_server import LoopbackServer

from ail_tui.cancel import Cancellation, CancelToken
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import RunnerError, RunnerRequest, RunnerResult
from ail_tui.runners.http import NO_MODEL, HttpRunner
from ail_tui.runners.http_history import ConversationStore

TOKEN = "sk-very-secret-token-123"


def make_request(server: LoopbackServer, **fields: Any) -> RunnerRequest:
    values: dict[str, Any] = {
        "step_id": "step", "prompt": "hi there", "model": "m1", "base_url": server.base_url,
    }
    values.update(fields)
    return RunnerRequest(**values)


class Events(list[tuple[float, dict[str, Any]]]):
    """Emitted events with their arrival times."""

    def __call__(self, event: dict[str, Any]) -> None:
        self.append((time.monotonic(), event))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [event for _, event in self if event["type"] == kind]


def run(
    request: RunnerRequest,
    *,
    store: ConversationStore | None = None,
    cancel: CancelToken | None = None,
    **options: Any,
) -> tuple[RunnerResult, Events]:
    events = Events()
    runner = HttpRunner(store or ConversationStore(), **options)
    return runner.invoke(request, events, cancel or CancelToken()), events


def fail(request: RunnerRequest, **options: Any) -> RunnerError:
    with pytest.raises(RunnerError) as info:
        run(request, **options)
    return info.value


# --- request shape ---------------------------------------------------------------------------


def test_streaming_body_and_headers(http_server: LoopbackServer) -> None:
    http_server.scenario.mode = "sse"
    run(make_request(http_server, auth_token=TOKEN))
    [sent] = http_server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.body == {
        "model": "m1",
        "messages": [{"role": "user", "content": "hi there"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_non_streaming_body_has_no_stream_fields_and_no_auth_without_token(
    http_server: LoopbackServer,
) -> None:
    run(make_request(http_server), stream=False)
    [sent] = http_server.requests
    assert "Authorization" not in sent.headers
    assert sent.body == {"model": "m1", "messages": [{"role": "user", "content": "hi there"}]}


def test_environment_fallbacks_and_trailing_slash(
    http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIL_HTTP_BASE_URL", http_server.base_url + "/")
    monkeypatch.setenv("AIL_HTTP_TOKEN", TOKEN)
    monkeypatch.setenv("AIL_HTTP_MODEL", "env-model")
    result, _ = run(make_request(http_server, base_url=None, model=None), stream=False)
    [sent] = http_server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.body["model"] == "env-model"
    assert result.model == "loop-model"


def test_request_fields_beat_environment(
    http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIL_HTTP_BASE_URL", "http://127.0.0.1:9/nowhere")
    monkeypatch.setenv("AIL_HTTP_TOKEN", "env-token")
    monkeypatch.setenv("AIL_HTTP_MODEL", "env-model")
    run(make_request(http_server, base_url=http_server.base_url + "/", auth_token=TOKEN))
    [sent] = http_server.requests
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.body["model"] == "m1"


def test_missing_model_fails_before_sending(http_server: LoopbackServer) -> None:
    error = fail(make_request(http_server, model=None))
    assert error.error_type == ErrorType.RUNNER_INVOCATION_FAILED
    assert error.detail == NO_MODEL
    assert http_server.requests == []


@pytest.mark.parametrize(
    ("sampling", "env", "expected"),
    [
        ({}, None, None),
        ({"thinking": 0.7}, None, True),
        ({"thinking": 0.2}, None, False),
        ({"thinking": True}, "false", True),
        ({"thinking": 0.0}, "1", False),
        ({}, "false", False),
        ({}, "FALSE", False),
        ({}, "1", True),
        ({}, "yes", True),
    ],
)
def test_think_rules(
    http_server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
    sampling: dict[str, Any],
    env: str | None,
    expected: bool | None,
) -> None:
    if env is not None:
        monkeypatch.setenv("AIL_HTTP_THINK", env)
    run(make_request(http_server, sampling=sampling), stream=False)
    body = http_server.requests[0].body
    assert body.get("think", "absent") == ("absent" if expected is None else expected)


def test_sampling_fields(http_server: LoopbackServer) -> None:
    sampling = {
        "temperature": 0.3, "top_p": 0.9, "top_k": 40, "max_tokens": 256,
        "stop_sequences": ("END", "STOP"),
    }
    run(make_request(http_server, sampling=sampling), stream=False)
    body = http_server.requests[0].body
    assert {k: body[k] for k in ("temperature", "top_p", "top_k", "max_tokens", "stop")} == {
        "temperature": 0.3, "top_p": 0.9, "top_k": 40, "max_tokens": 256, "stop": ["END", "STOP"],
    }
    assert "stop_sequences" not in body


SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


def test_output_schema_as_response_format(http_server: LoopbackServer) -> None:
    run(make_request(http_server, output_schema=SCHEMA), stream=False)
    body = http_server.requests[0].body
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": SCHEMA, "strict": True},
    }
    assert "format" not in body


def test_output_schema_as_ollama_format(http_server: LoopbackServer) -> None:
    assert HttpRunner(ConversationStore(), ollama=True).name == "ollama"
    assert HttpRunner(ConversationStore()).name == "http"
    run(make_request(http_server, output_schema=SCHEMA), stream=False, ollama=True)
    body = http_server.requests[0].body
    assert body["format"] == SCHEMA
    assert "response_format" not in body


def test_system_prompts_are_joined(http_server: LoopbackServer) -> None:
    request = make_request(http_server, system_prompt="Be brief.", append_system_prompts=(
        "Use British spelling.", "", "No emoji."))
    run(request, stream=False)
    assert http_server.requests[0].body["messages"] == [
        {"role": "system", "content": "Be brief.\n\nUse British spelling.\n\nNo emoji."},
        {"role": "user", "content": "hi there"},
    ]


def test_empty_system_prompts_send_no_system_message(http_server: LoopbackServer) -> None:
    run(make_request(http_server, system_prompt="", append_system_prompts=("",)), stream=False)
    assert [m["role"] for m in http_server.requests[0].body["messages"]] == ["user"]


# --- conversations -----------------------------------------------------------------------------


def test_resume_sends_the_earlier_exchange(http_server: LoopbackServer) -> None:
    store = ConversationStore()
    http_server.scenario.mode = "sse"
    first, _ = run(make_request(http_server, system_prompt="sys", prompt="one"), store=store)
    assert str(uuid.UUID(first.session_id or "")) == first.session_id
    http_server.scenario.chunks = ["second ", "answer"]
    second, _ = run(
        make_request(http_server, prompt="two", system_prompt="ignored",
                     resume_session_id=first.session_id),
        store=store,
    )
    assert second.session_id == first.session_id
    expected = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "Hello there"},
        {"role": "user", "content": "two"},
    ]
    assert http_server.requests[1].body["messages"] == expected
    stored = store.get(first.session_id or "")
    assert stored == [*expected, {"role": "assistant", "content": "second answer"}]


def test_unknown_resume_id_starts_fresh_under_that_id(http_server: LoopbackServer) -> None:
    store = ConversationStore()
    result, _ = run(make_request(http_server, resume_session_id="abc"), store=store, stream=False)
    assert result.session_id == "abc"
    assert http_server.requests[0].body["messages"] == [{"role": "user", "content": "hi there"}]
    assert store.get("abc") is not None


@pytest.mark.parametrize(("with_system", "keep"), [(True, 2), (False, 3), (True, 0)])
def test_max_history_messages_trims_the_middle(
    http_server: LoopbackServer, with_system: bool, keep: int
) -> None:
    store = ConversationStore()
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(6)]
    system = [{"role": "system", "content": "sys"}] if with_system else []
    store.put("s1", system + turns)
    request = make_request(http_server, resume_session_id="s1", max_history_messages=keep)
    run(request, store=store, stream=False)
    kept = turns[-keep:] if keep else []
    assert http_server.requests[0].body["messages"] == [
        *system, *kept, {"role": "user", "content": "hi there"},
    ]


# --- replies -----------------------------------------------------------------------------------


def test_non_streaming_reply(http_server: LoopbackServer) -> None:
    http_server.scenario.reasoning = "let me think"
    result, events = run(make_request(http_server), stream=False)
    assert result.response == "Hello from loopback"
    assert (result.input_tokens, result.output_tokens) == (12, 34)
    assert result.model == "loop-model"
    assert result.thinking == "let me think"
    assert result.cost_usd is None
    assert [e["type"] for _, e in events] == ["completed"]


def test_deltas_stream_before_the_reply_ends(http_server: LoopbackServer) -> None:
    sc = http_server.scenario
    sc.mode, sc.chunks, sc.chunk_delay = "sse", ["a", "b", "c", "d"], 0.12
    result, events = run(make_request(http_server))
    deltas = [(at, e) for at, e in events if e["type"] == "stream_delta"]
    assert [e["text"] for _, e in deltas] == ["a", "b", "c", "d"]
    assert result.response == "abcd"
    sent = http_server.chunk_times
    assert len(sent) == 4
    # The first delta arrived before the server had even written the last chunk (0.36 s later).
    assert deltas[0][0] < sent[-1]
    assert (result.input_tokens, result.output_tokens) == (12, 34)
    assert result.model == "loop-model"
    assert result.thinking is None
    assert events[-1][1]["type"] == "completed"
    assert events[-1][1]["response"] == "abcd"


def test_streamed_thinking(http_server: LoopbackServer) -> None:
    sc = http_server.scenario
    sc.mode, sc.thinking_chunks = "sse", ["hmm, ", "yes"]
    result, events = run(make_request(http_server))
    assert [e["text"] for e in events.of("thinking")] == ["hmm, ", "yes"]
    assert result.thinking == "hmm, yes"
    assert result.response == "Hello there"


def test_stream_request_answered_with_plain_json(http_server: LoopbackServer) -> None:
    result, events = run(make_request(http_server))
    assert http_server.requests[0].body["stream"] is True
    assert result.response == "Hello from loopback"
    assert result.output_tokens == 34
    assert events.of("stream_delta") == []


def test_stream_without_done_is_fine_after_a_finish_reason(http_server: LoopbackServer) -> None:
    http_server.scenario.mode, http_server.scenario.done = "sse", False
    result, _ = run(make_request(http_server))
    assert result.response == "Hello there"


@pytest.mark.parametrize(
    ("prices", "expected"),
    [((0.5, 1.5), 12 / 1000 * 0.5 + 34 / 1000 * 1.5), ((0.5, None), 0.006), ((None, 2.0), 0.068)],
)
def test_cost(
    http_server: LoopbackServer, prices: tuple[float | None, float | None], expected: float
) -> None:
    http_server.scenario.mode = "sse"
    request = make_request(http_server, input_cost_per_1k=prices[0], output_cost_per_1k=prices[1])
    result, events = run(request)
    assert result.cost_usd == pytest.approx(expected)
    assert events.of("completed")[0]["cost_usd"] == pytest.approx(expected)


# --- errors ------------------------------------------------------------------------------------


def test_http_status_error(http_server: LoopbackServer) -> None:
    http_server.scenario.mode = "status"
    error = fail(make_request(http_server))
    assert error.error_type == ErrorType.RUNNER_INVOCATION_FAILED
    assert error.detail == "HTTP 500: internal trouble"


def test_http_error_body_is_truncated(http_server: LoopbackServer) -> None:
    http_server.scenario.mode, http_server.scenario.error_body = "status", "x" * 2000
    error = fail(make_request(http_server), stream=False)
    assert error.detail == "HTTP 500: " + "x" * 500


@pytest.mark.parametrize("stream", [True, False])
def test_token_never_in_errors_even_when_echoed(http_server: LoopbackServer, stream: bool) -> None:
    sc = http_server.scenario
    sc.mode, sc.status, sc.echo_auth, sc.error_body = "status", 401, True, f"bad key {TOKEN}"
    error = fail(make_request(http_server, auth_token=TOKEN), stream=stream)
    assert TOKEN not in error.detail and TOKEN not in str(error)
    assert error.detail == "HTTP 401: bad key *** (you sent: Bearer ***)"


@pytest.mark.parametrize(
    ("mode", "stream", "start"),
    [
        ("bad_json", False, "HttpRunner: failed to parse response JSON: "),
        ("bad_json", True, "HttpRunner: failed to parse response JSON: "),
        ("bad_sse", True, "HttpRunner: failed to parse response JSON: "),
        ("error_json", False, "HTTP error from server: model is overloaded"),
        ("error_sse", True, "HTTP error from server: context length exceeded"),
    ],
)
def test_bad_replies(http_server: LoopbackServer, mode: str, stream: bool, start: str) -> None:
    http_server.scenario.mode = mode
    error = fail(make_request(http_server), stream=stream)
    assert error.error_type == ErrorType.RUNNER_INVOCATION_FAILED
    assert error.detail.startswith(start)


def test_stream_cut_mid_way(http_server: LoopbackServer) -> None:
    http_server.scenario.mode, http_server.scenario.cut_after = "sse", 2
    error = fail(make_request(http_server))
    assert error.detail == "HttpRunner: stream ended early"


def test_connection_refused_is_a_transport_error(http_server: LoopbackServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = fail(make_request(http_server, base_url=f"http://127.0.0.1:{port}/v1"))
    assert error.error_type == ErrorType.RUNNER_INVOCATION_FAILED
    assert error.detail.startswith(
        f"Transport error: cannot connect to http://127.0.0.1:{port}/v1: ")


def test_read_timeout_is_honoured(http_server: LoopbackServer) -> None:
    http_server.scenario.header_delay = 3.0
    started = time.monotonic()
    error = fail(make_request(http_server, read_timeout_seconds=0.3))
    assert time.monotonic() - started < 1.5
    assert error.detail == "Transport error: read timed out after 0.3 s"


# --- cancellation ------------------------------------------------------------------------------


def cancel_later(cancel: CancelToken, delay: float) -> list[float]:
    """Cancel ``cancel`` after ``delay`` seconds; the list gets the moment it happened."""
    when: list[float] = []

    def fire() -> None:
        when.append(time.monotonic())
        cancel.cancel(Cancellation("user", "test"))

    timer = threading.Timer(delay, fire)
    timer.daemon = True
    timer.start()
    return when


def assert_cancelled_quickly(server: LoopbackServer, request: RunnerRequest) -> Events:
    cancel, events = CancelToken(), Events()
    when = cancel_later(cancel, 0.3)
    with pytest.raises(RunnerError) as info:
        HttpRunner(ConversationStore()).invoke(request, events, cancel)
    latency = time.monotonic() - when[0]
    assert info.value.error_type == ErrorType.RUNNER_CANCELLED
    assert info.value.detail == "cancelled"
    assert latency < 0.5, f"invoke took {latency:.2f} s to notice the cancel"
    assert server.disconnected.wait(1.0), "the server never saw the connection close"
    return events


def test_cancel_mid_stream(http_server: LoopbackServer) -> None:
    sc = http_server.scenario
    sc.mode, sc.chunks, sc.chunk_delay = "sse", ["first ", "second ", "third"], 3.0
    events = assert_cancelled_quickly(http_server, make_request(http_server))
    assert [e["text"] for e in events.of("stream_delta")] == ["first "]
    assert events.of("completed") == []


def test_cancel_while_waiting_for_headers(http_server: LoopbackServer) -> None:
    http_server.scenario.header_delay = 5.0
    events = assert_cancelled_quickly(http_server, make_request(http_server))
    assert list(events) == []


def test_cancel_while_the_connection_is_still_being_made() -> None:
    # A listener whose tiny backlog is full never completes another handshake.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.2)
        request = RunnerRequest(step_id="s", prompt="hi", model="m",
                                base_url=f"http://127.0.0.1:{port}/v1",
                                connect_timeout_seconds=5)
        cancel = CancelToken()
        when = cancel_later(cancel, 0.3)
        with pytest.raises(RunnerError) as info:
            HttpRunner(ConversationStore()).invoke(request, Events(), cancel)
        latency = time.monotonic() - when[0]
        for filler in fillers:
            filler.close()
    assert info.value.error_type == ErrorType.RUNNER_CANCELLED
    assert latency < 0.5, f"invoke took {latency:.2f} s to notice the cancel"


def test_cancelled_before_sending(http_server: LoopbackServer) -> None:
    cancel = CancelToken()
    cancel.cancel(Cancellation("user", "test"))
    with pytest.raises(RunnerError) as info:
        run(make_request(http_server), cancel=cancel)
    assert info.value.error_type == ErrorType.RUNNER_CANCELLED
    assert http_server.requests == []
