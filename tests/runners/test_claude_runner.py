"""The Claude CLI runner against a fake ``claude`` that replays stream-json transcripts."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from processes import gone_soon

from ail_tui.cancel import Cancellation, CancelToken
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import (
    RunnerError,
    RunnerRequest,
    RunnerResult,
    ToolPolicyOptions,
    completed_event,
)
from ail_tui.runners.claude import ClaudeCliRunner

TOKEN = "sk-ant-very-secret-token-42"
SESSION = "5f0c1e2a-8b7d-4c3e-9a61-2d4b7e9f0a13"


@dataclass
class Call:
    """One runner invocation: what it returned or raised, and what it emitted when."""

    result: RunnerResult | None = None
    error: RunnerError | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    def without(self, *types: str) -> list[dict[str, Any]]:
        """The events, leaving out those of ``types`` (by default the live ``usage``)."""
        skip = types or ("usage",)
        return [event for event in self.events if event["type"] not in skip]


class FakeClaude:
    """Drives the fake CLI installed as ``claude`` on PATH."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.record_path = tmp_path / "record.json"
        monkeypatch.setenv("FAKE_CLAUDE_RECORD", str(self.record_path))

    def record(self) -> dict[str, Any]:
        seen: dict[str, Any] = json.loads(self.record_path.read_text())
        return seen

    def run(self, scenario: str, *, cancel: CancelToken | None = None,
            runner: ClaudeCliRunner | None = None, **options: Any) -> Call:
        self.monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", scenario)
        request = RunnerRequest(step_id="count", prompt="How many test files?", **options)
        call = Call()

        def emit(event: dict[str, Any]) -> None:
            call.events.append(event)
            call.times.append(time.monotonic())

        call.started = time.monotonic()
        try:
            call.result = (runner or ClaudeCliRunner()).invoke(
                request, emit, cancel or CancelToken())
        except RunnerError as exc:
            call.error = exc
        call.ended = time.monotonic()
        return call


@pytest.fixture
def fake(fake_claude_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeClaude:
    return FakeClaude(tmp_path, monkeypatch)


def _cancel_after(token: CancelToken, seconds: float) -> None:
    timer = threading.Timer(seconds, token.cancel, args=(Cancellation("user", "test"),))
    timer.daemon = True
    timer.start()


def test_full_transcript(fake: FakeClaude) -> None:
    call = fake.run("full")
    assert call.error is None and call.result is not None
    result = call.result
    assert result.response == "There are **2** test files."
    assert result.cost_usd == pytest.approx(0.0241875)
    assert result.session_id == SESSION
    assert result.model == "claude-sonnet-4-5-20250929"  # from the messages
    # The result's usage is the run's total; the messages' only count live.
    assert (result.input_tokens, result.output_tokens) == (10, 120)
    assert result.thinking == ("The user wants the test count. I should look at the tests "
                               "folder.\nTwo files, one shown.")
    assert result.tool_events == [
        {"event_type": "tool_call", "tool_name": "Glob", "tool_id": "toolu_01Gh7k",
         "content_json": '{"pattern":"tests/**/test_*.py"}', "seq": 0},
        {"event_type": "tool_result", "tool_name": "", "tool_id": "toolu_01Gh7k",
         "content_json": "tests/test_a.py\ntests/test_b.py", "seq": 1},
        {"event_type": "tool_call", "tool_name": "Read", "tool_id": "toolu_02Jk8m",
         "content_json": '{"file_path":"tests/test_a.py","limit":5}', "seq": 2},
        {"event_type": "tool_result", "tool_name": "", "tool_id": "toolu_02Jk8m",
         "content_json": '[{"type":"text","text":"def test_one():\\n    assert True"}]',
         "seq": 3},
    ]
    # Live totals: each message counted once, at its latest usage (4+3+3 in).
    assert [(e["input_tokens"], e["output_tokens"]) for e in call.events
            if e["type"] == "usage"] == [(4, 8), (4, 60), (7, 65), (10, 80)]
    assert call.without() == [
        {"type": "thinking",
         "text": "The user wants the test count. I should look at the tests folder."},
        {"type": "stream_delta", "text": "I'll count the test files."},
        {"type": "tool_use", "tool_name": "Glob", "tool_id": "toolu_01Gh7k",
         "input": '{"pattern":"tests/**/test_*.py"}'},
        {"type": "tool_result", "tool_id": "toolu_01Gh7k",
         "content": "tests/test_a.py\ntests/test_b.py"},
        {"type": "tool_use", "tool_name": "Read", "tool_id": "toolu_02Jk8m",
         "input": '{"file_path":"tests/test_a.py","limit":5}'},
        {"type": "tool_result", "tool_id": "toolu_02Jk8m",
         "content": '[{"type":"text","text":"def test_one():\\n    assert True"}]'},
        {"type": "thinking", "text": "Two files, one shown."},
        {"type": "stream_delta", "text": "There are **2** test files."},
        completed_event(result),
    ]
    assert call.events[-1]["thinking"] == result.thinking


def test_child_gets_argv_cwd_and_closed_stdin(fake: FakeClaude, tmp_path: Path) -> None:
    call = fake.run("full", model="claude-sonnet-4-5", resume_session_id="prev",
                    tools=ToolPolicyOptions("no_tools"), cwd=str(tmp_path))
    assert call.error is None
    seen = fake.record()
    assert seen["argv"] == [
        "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions",
        "--resume", "prev", "--tools", "", "--model", "claude-sonnet-4-5",
        "-p", "--", "How many test files?"]
    assert seen["cwd"] == str(tmp_path)
    assert seen["stdin_is_devnull"] is True


def test_slow_transcript_streams_before_the_result(fake: FakeClaude) -> None:
    call = fake.run("slow")
    assert call.result is not None and call.result.response == "Hello world"
    assert call.result.model == "claude-opus-4-1-20250805"
    assert [e.get("text") for e in call.events] == [None, "Hello", " world", None]
    assert call.events[0] == {"type": "usage", "input_tokens": 5, "output_tokens": 2}
    assert call.events[-1]["type"] == "completed"
    assert call.ended - call.times[1] >= 0.6  # "Hello" arrived two sleeps before the end
    assert call.times[2] - call.times[1] >= 0.3


def test_malformed_line_fails_and_kills_the_child(fake: FakeClaude) -> None:
    call = fake.run("malformed")
    assert call.error is not None
    assert call.error.error_type == ErrorType.RUNNER_INVOCATION_FAILED
    assert call.error.detail.startswith("Malformed JSON from claude CLI: ")
    assert '; line: {"type":"assistant","message":{"content":[{"type":"text"' in call.error.detail
    assert call.ended - call.started < 3  # did not wait out the fake's 30 s sleep
    assert gone_soon(fake.record()["pid"])


def test_nonzero_exit_reports_stderr(fake: FakeClaude) -> None:
    call = fake.run("exit_stderr")
    assert call.error is not None
    assert call.error.error_type == ErrorType.RUNNER_INVOCATION_FAILED
    assert call.error.detail == "Process exited with 2: warming up | Error: boom"


def test_stream_without_result(fake: FakeClaude) -> None:
    call = fake.run("no_result")
    assert call.error is not None
    assert call.error.error_type == ErrorType.RUNNER_INVOCATION_FAILED
    assert call.error.detail == "Stream ended without a 'result' event"
    assert call.without() == [{"type": "stream_delta", "text": "Hello"}]


@pytest.mark.parametrize(("scenario", "error_type", "said", "advice"), [
    ("is_error", ErrorType.RUNNER_AUTH_FAILED, "Invalid API key · Please run /login",
     "set ANTHROPIC_API_KEY"),
    ("error_subtype", ErrorType.RUNNER_OVERLOADED, "Execution error: model overloaded",
     "run again later"),
    ("error_max_turns", ErrorType.RUNNER_MAX_TURNS, "Reached maximum number of turns (2)",
     "raise its limit"),
    ("error_max_budget", ErrorType.RUNNER_BUDGET_EXCEEDED, "Reached maximum budget ($0.01)",
     "raise or remove the budget"),
    ("error_no_conversation", ErrorType.RUNNER_INVOCATION_FAILED,
     "No conversation found with session ID: 0d9f2c1e-5b6a-4c3d-8e7f-1a2b3c4d5e6f",
     "the claude session to resume is gone: remove resume: true"),
    ("error_structured", ErrorType.RUNNER_INVOCATION_FAILED,
     "Failed to provide valid structured output after 5 attempts", "simplify the output"),
    ("retry_rate_limited", ErrorType.RUNNER_RATE_LIMITED, "API Error: 429", "wait and run"),
    ("retry_overloaded", ErrorType.RUNNER_OVERLOADED, "API Error: 529", "run again later"),
])
def test_error_result(fake: FakeClaude, scenario: str, error_type: str, said: str,
                      advice: str) -> None:
    """Every error subtype's own words are in the one-line detail, with what to do."""
    call = fake.run(scenario)
    assert call.error is not None
    assert call.error.error_type == error_type
    detail = call.error.detail
    assert f"(claude said: {said}" in detail and advice in detail
    assert "\n" not in detail
    assert not any(e["type"] == "stream_delta" and "API Error" in e["text"]
                   for e in call.events)


def test_not_logged_in_fails_with_a_way_to_log_in(fake: FakeClaude) -> None:
    call = fake.run("not_logged_in")
    assert call.error is not None
    assert call.error.error_type == ErrorType.RUNNER_AUTH_FAILED
    assert call.error.detail == (
        "claude could not authenticate: set ANTHROPIC_API_KEY (or "
        "defaults.provider.auth_token), or run `claude` once and log in with /login "
        "(claude said: Not logged in · Please run /login)")
    assert call.events == []  # the CLI's message is not the model's output


def test_refused_as_root_says_how_to_proceed(fake: FakeClaude) -> None:
    call = fake.run("root_refused")
    assert call.error is not None
    assert call.error.error_type == ErrorType.RUNNER_REFUSED_AS_ROOT
    assert "run ail-tui as a non-root user" in call.error.detail
    assert "set IS_SANDBOX=1 if this machine is a sandbox" in call.error.detail
    assert "cannot be used with root/sudo privileges" in call.error.detail


def test_two_content_blocks_count_their_usage_once(fake: FakeClaude) -> None:
    call = fake.run("two_blocks")
    assert call.result is not None
    assert (call.result.input_tokens, call.result.output_tokens) == (100, 25)
    assert call.result.cost_usd == pytest.approx(0.00105)
    assert call.result.model == "claude-sonnet-4-5-20250929"
    assert [e for e in call.events if e["type"] == "usage"] == [
        {"type": "usage", "input_tokens": 100, "output_tokens": 10}]
    assert call.events[-1]["model"] == "claude-sonnet-4-5-20250929"


def test_api_retries_are_forwarded_as_they_happen(fake: FakeClaude) -> None:
    call = fake.run("api_retry")
    assert call.result is not None and call.result.response == "Answer after retries"
    retries = [(e, t) for e, t in zip(call.events, call.times, strict=True)
               if e["type"] == "retry"]
    assert [e for e, _ in retries] == [
        {"type": "retry", "attempt": 1, "max_retries": 10, "delay_s": 0.5, "status": 429,
         "reason": "HTTP 429 rate_limit"},
        {"type": "retry", "attempt": 2, "max_retries": 10, "delay_s": 1.2, "status": None,
         "reason": "unknown"},
    ]
    assert call.ended - retries[0][1] >= 0.5  # the first came while the CLI still waited


def test_prompt_starting_with_a_dash_reaches_the_cli(fake: FakeClaude) -> None:
    fake.monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "slow")
    call = Call()
    result = ClaudeCliRunner().invoke(
        RunnerRequest(step_id="s", prompt="- check the tests"), call.events.append,
        CancelToken())
    assert result.response == "Hello world"
    assert fake.record()["argv"][-3:] == ["-p", "--", "- check the tests"]


def test_denied_tools_are_marked_and_named(fake: FakeClaude) -> None:
    call = fake.run("denied")
    assert call.result is not None
    call_event, result_event = call.result.tool_events
    assert call_event["denied"] is True and call_event["tool_name"] == "Bash"
    assert result_event["is_error"] is True
    assert {"type": "tool_result", "tool_id": "toolu_01Rm", "is_error": True,
            "content": "Claude requested permissions to use Bash, but you haven't granted "
                       "it yet."} in call.events
    warnings = [e["message"] for e in call.events if e["type"] == "warning"]
    assert warnings == ["claude denied Bash(rm -rf build): allow it with "
                        "tools: {allow: [Bash]}"]


def test_subagent_messages_go_under_their_tool_call(fake: FakeClaude) -> None:
    call = fake.run("subagent")
    assert call.result is not None
    assert [e["text"] for e in call.events if e["type"] == "stream_delta"] == [
        "There are 2 test files."]
    assert call.result.model == "claude-sonnet-4-5-20250929"  # not the sub-agent's
    task = "toolu_01Task"
    assert [(e["event_type"], e.get("parent_tool_id")) for e in call.result.tool_events] == [
        ("tool_call", None), ("subagent_text", task), ("tool_call", task),
        ("tool_result", task), ("subagent_text", task), ("tool_result", None)]
    assert call.result.tool_events[1]["content_json"] == "Looking for test files."
    assert {"type": "subagent_text", "parent_tool_id": task,
            "text": "Found 2 files."} in call.events
    assert [e for e in call.events if e["type"] == "tool_progress"] == [
        {"type": "tool_progress", "tool_id": "toolu_01Glob", "tool_name": "Glob",
         "elapsed_s": 1.5, "parent_tool_id": task},
        {"type": "tool_progress", "tool_id": task, "tool_name": "Task", "elapsed_s": 3.2},
    ]
    assert [(e["kind"], e["message"]) for e in call.events if e["type"] == "info"] == [
        ("status", "claude is compacting"),
        ("compact_boundary", "conversation compacted (auto, 155000 tokens before)"),
        ("status", "claude is working"),
        ("rate_limit", "rate limit allowed_warning (five_hour)"),
    ]


def test_missing_executable(fake: FakeClaude, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    call = fake.run("full")
    assert call.error is not None
    assert call.error.error_type == ErrorType.RUNNER_INVOCATION_FAILED
    assert call.error.detail.startswith(
        "Could not start the claude CLI: 'claude' was not found on PATH; install Claude Code")
    assert "--runner" in call.error.detail


def test_explicit_path_executable(fake: FakeClaude, tmp_path: Path) -> None:
    call = fake.run("full", runner=ClaudeCliRunner(str(tmp_path / "bin" / "claude")))
    assert call.result is not None
    missing = fake.run("full", runner=ClaudeCliRunner(str(tmp_path / "nope" / "claude")))
    assert missing.error is not None and "was not found" in missing.error.detail


def test_environment(fake: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDECODE", "1")
    monkeypatch.setenv("FAKE_CLAUDE_EXPECT_TOKEN", TOKEN)
    call = fake.run("full", base_url="http://127.0.0.1:4000", auth_token=TOKEN)
    assert call.result is not None
    seen = fake.record()
    assert seen["CLAUDECODE"] is False
    assert seen["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4000"
    assert seen["auth_token_set"] is True and seen["auth_token_matches"] is True
    assert TOKEN not in json.dumps(seen["argv"])
    assert os.environ["CLAUDECODE"] == "1"  # our own environment is untouched


def test_without_provider_overrides_nothing_is_set(fake: FakeClaude) -> None:
    assert fake.run("full").result is not None
    seen = fake.record()
    assert seen["ANTHROPIC_BASE_URL"] is None and seen["auth_token_set"] is False


def test_token_never_in_errors_or_events(fake: FakeClaude) -> None:
    call = fake.run("echo_token", base_url="http://127.0.0.1:4000", auth_token=TOKEN,
                    resume_session_id="prev")
    assert call.error is not None and call.error.detail.startswith("Process exited with 3: ")
    assert TOKEN not in call.error.detail and TOKEN not in str(call.error)
    assert TOKEN not in json.dumps(call.events)


def test_resume_dropped_with_base_url_warns(fake: FakeClaude) -> None:
    call = fake.run("full", resume_session_id="prev", base_url="http://127.0.0.1:4000")
    assert call.result is not None
    assert "--resume" not in fake.record()["argv"]
    warning = call.events[0]
    assert warning["type"] == "warning" and isinstance(warning["message"], str)


def test_cancel_mid_stream_kills_the_group(fake: FakeClaude) -> None:
    token = CancelToken()
    fired: list[float] = []
    token.on_cancel(lambda: fired.append(time.monotonic()))
    _cancel_after(token, 0.5)
    call = fake.run("hang", cancel=token)
    assert call.error is not None
    assert call.error.error_type == ErrorType.RUNNER_CANCELLED
    assert fired and call.ended - fired[0] < 1.0
    assert call.without() == [{"type": "stream_delta", "text": "Working on it"}]
    seen = fake.record()
    assert gone_soon(seen["pid"]) and gone_soon(seen["grandchild_pid"])


def test_already_cancelled_token_starts_nothing(fake: FakeClaude) -> None:
    token = CancelToken()
    token.cancel(Cancellation("user", "test"))
    call = fake.run("full", cancel=token)
    assert call.error is not None and call.error.error_type == ErrorType.RUNNER_CANCELLED
    assert not fake.record_path.exists()


def test_lingering_cli_is_ended_after_its_result(fake: FakeClaude) -> None:
    call = fake.run("lingers", runner=ClaudeCliRunner(exit_grace=0.2))
    assert call.result is not None and call.result.response == "Hello world"
    assert call.ended - call.started < 2
    assert gone_soon(fake.record()["grandchild_pid"])
