"""The claude runner on what the real CLI printed (``claude_transcripts/real_*.jsonl``).

The transcripts were recorded from Claude Code against the loopback Anthropic API; the
fake CLI replays them, so the parser meets the real shapes without npm or a network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ail_tui.cancel import CancelToken
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import RunnerError, RunnerRequest, RunnerResult
from ail_tui.runners.claude import ClaudeCliRunner

TRANSCRIPTS = Path(__file__).with_name("claude_transcripts")


def replay(scenario: str, monkeypatch: pytest.MonkeyPatch
           ) -> tuple[RunnerResult | None, RunnerError | None, list[dict[str, Any]]]:
    if not (TRANSCRIPTS / f"{scenario}.jsonl").exists():
        pytest.skip(f"no recorded transcript {scenario}.jsonl")
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", scenario)
    events: list[dict[str, Any]] = []
    try:
        result = ClaudeCliRunner().invoke(RunnerRequest(step_id="s", prompt="go"),
                                          events.append, CancelToken())
    except RunnerError as exc:
        return None, exc, events
    return result, None, events


def texts(events: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in events if e["type"] == "stream_delta"]


@pytest.mark.parametrize(("scenario", "tokens", "cost", "model", "streamed"), [
    ("real_text", (100, 20), 0.0008, "claude-opus-5-5", ["Hello from the loopback API."]),
    ("real_two_blocks", (120, 30), 0.00081, "claude-sonnet-4-5",
     ["First block.", "Second block."]),
    ("real_partial_messages", (120, 30), 0.00108, "claude-opus-5-5",
     ["First block.", "Second block."]),
    ("real_tool_then_text", (460, 55), 0.00294, "claude-opus-5-5",
     ["Let me read it.", "The file says hello."]),
])
def test_tokens_cost_and_model_are_the_clis(fake_claude_bin: Path,
                                            monkeypatch: pytest.MonkeyPatch, scenario: str,
                                            tokens: tuple[int, int], cost: float, model: str,
                                            streamed: list[str]) -> None:
    result, error, events = replay(scenario, monkeypatch)
    assert error is None and result is not None
    assert (result.input_tokens, result.output_tokens) == tokens
    assert result.cost_usd == pytest.approx(cost)
    assert result.model == model
    assert texts(events) == streamed
    live = [e["input_tokens"] for e in events if e["type"] == "usage"]
    assert live and max(live) <= tokens[0]  # a message's repeated usage is counted once


def test_denied_write_is_marked_and_named(fake_claude_bin: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    result, error, events = replay("real_permission_denied", monkeypatch)
    assert error is None and result is not None
    call, answer = result.tool_events
    assert call["tool_name"] == "Write" and call["denied"] is True
    assert answer["is_error"] is True
    assert [e["message"] for e in events if e["type"] == "warning"] == [
        "claude denied Write(/tmp/ail-claude-rec/project/out.txt): allow it with "
        "tools: {allow: [Write]}"]


@pytest.mark.parametrize(("scenario", "error_type", "words"), [
    ("real_not_logged_in", ErrorType.RUNNER_AUTH_FAILED, "Not logged in"),
    ("real_auth_401", ErrorType.RUNNER_AUTH_FAILED, "Invalid API key"),
    ("real_rate_limited_429", ErrorType.RUNNER_RATE_LIMITED, "Request rejected (429)"),
    ("real_overloaded_529", ErrorType.RUNNER_OVERLOADED, "529 Overloaded"),
    ("real_server_error_500", ErrorType.RUNNER_INVOCATION_FAILED,
     "the API failed: run again later"),
    ("real_connection_refused", ErrorType.RUNNER_INVOCATION_FAILED,
     "claude could not reach the API: check the network"),
    ("real_max_turns", ErrorType.RUNNER_MAX_TURNS, "Reached maximum number of turns (1)"),
    ("real_max_budget", ErrorType.RUNNER_BUDGET_EXCEEDED, "Reached maximum budget"),
    ("real_no_conversation", ErrorType.RUNNER_INVOCATION_FAILED,
     "the claude session to resume is gone"),
])
def test_failures_have_a_type_and_a_way_out(fake_claude_bin: Path,
                                            monkeypatch: pytest.MonkeyPatch, scenario: str,
                                            error_type: str, words: str) -> None:
    result, error, events = replay(scenario, monkeypatch)
    assert result is None and error is not None
    assert error.error_type == error_type
    assert words in error.detail and "\n" not in error.detail
    assert not any("API Error" in text or "Not logged in" in text for text in texts(events))


def test_retries_are_forwarded(fake_claude_bin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, events = replay("real_rate_limited_429", monkeypatch)
    assert [e for e in events if e["type"] == "retry"] == [
        {"type": "retry", "attempt": 1, "max_retries": 2, "delay_s": 1.2, "status": 429,
         "reason": "HTTP 429 rate_limit"},
        {"type": "retry", "attempt": 2, "max_retries": 2, "delay_s": 1.2, "status": 429,
         "reason": "HTTP 429 rate_limit"},
    ]
