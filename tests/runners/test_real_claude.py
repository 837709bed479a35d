"""The ``claude`` runner driving the real Claude Code CLI against a loopback Anthropic API.

The pinned CLI (``tests/support/install_claude_cli.py``; the tests are skipped with the
reason where it is not installed, e.g. npm is absent) runs sealed: a temporary ``HOME``, a
dummy key, ``ANTHROPIC_BASE_URL`` on :class:`anthropic_api.AnthropicApi`, no telemetry or
update checks, ``CLAUDE_CODE_MAX_RETRIES=0`` unless a test wants retries, and
``IS_SANDBOX=1`` (the tests run as root in CI). It is driven through ail-tui's runner
(:class:`ClaudeCliRunner`) and through the engine (``ail-tui run --headless --runner
claude``); what ail-tui reports is compared with the CLI's own stdout (a wrapper copies it)
and with the requests the API received.

``claude_transcripts/real_*.jsonl`` were recorded from this CLI and API with the
runner's options (``--output-format stream-json --verbose -p``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from anthropic_api import (
    failure,
    refused_base_url,
    slow_text,
    streamed_text,
    tool_then_text,
    two_text_blocks,
    with_subagent,
    write_then_text,
)
from claude_cli import DUMMY_KEY, the_line
from processes import none_tagged_within
from real_claude import (
    AS_ROOT,
    MISSING_SESSION,
    PROMPT,
    Call,
    RealClaude,
    epoch,
    left_behind,
    ndjson,
    wait_until,
)

from ail_tui.cancel import Cancellation, CancelToken
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import RunnerError, ToolPolicyOptions

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                                reason="finds the CLI's processes through /proc")


# --- what the CLI itself does (the reasons for the runner's choices) --------------------------


def _cli(claude: RealClaude, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(claude.executable), "--output-format", "stream-json", "--verbose", *args]
    return subprocess.run(argv, cwd=claude.project, env=dict(os.environ), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)


@pytest.mark.timeout(60)
def test_cli_reads_a_leading_dash_prompt_as_an_option_unless_after_double_dash(
        claude: RealClaude) -> None:
    refused = _cli(claude, "-p", "- check the tests")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "error: unknown option '- check the tests'" in refused.stderr
    assert claude.api.messages_requests() == []

    taken = _cli(claude, "-p", "--", "- check the tests")
    assert taken.returncode == 0, taken.stderr
    [sent] = claude.api.messages_requests()
    assert "- check the tests" in sent.texts()


@pytest.mark.timeout(60)
def test_cli_keeps_only_the_last_append_system_prompt(claude: RealClaude) -> None:
    done = _cli(claude, "--append-system-prompt", "Rule one.",
                "--append-system-prompt", "Rule two.", "-p", PROMPT)
    assert done.returncode == 0, done.stderr
    [sent] = claude.api.messages_requests()
    assert "Rule two." in sent.system_text
    assert "Rule one." not in sent.system_text


@pytest.mark.timeout(60)
@pytest.mark.skipif(not AS_ROOT, reason="the CLI refuses only root")
def test_cli_as_root_refuses_to_skip_permissions_without_is_sandbox(
        claude: RealClaude) -> None:
    claude.seal(sandbox=False)
    done = _cli(claude, "--dangerously-skip-permissions", "-p", PROMPT)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == ("--dangerously-skip-permissions cannot be used with "
                                   "root/sudo privileges for security reasons")
    assert claude.api.messages_requests() == []


# --- the runner: requests, streams, accounting ------------------------------------------------


@pytest.mark.timeout(60)
def test_streamed_text_reaches_stream_delta_events(claude: RealClaude) -> None:
    claude.api.play(streamed_text("Hello", " from", " the loopback API."))
    call = claude.invoke()
    result = call.ok()
    assert call.streamed() == "Hello from the loopback API."
    assert result.response == "Hello from the loopback API."
    assert [e["type"] for e in call.of("completed")] == ["completed"]
    [sent] = claude.api.messages_requests()
    assert sent.body["stream"] is True
    assert PROMPT in sent.texts()
    assert sent.headers["x-api-key"] == DUMMY_KEY
    assert left_behind(claude.tag, 2.0) == []


@pytest.mark.timeout(60)
def test_model_and_system_prompt_reach_the_api(claude: RealClaude) -> None:
    call = claude.invoke(model="claude-sonnet-4-5", system_prompt="You are terse.",
                         append_system_prompts=("Answer in English.",))
    call.ok()
    [sent] = claude.api.messages_requests()
    assert sent.model == "claude-sonnet-4-5"
    assert "You are terse." in sent.system_text
    assert "Answer in English." in sent.system_text
    assert the_line(claude.cli_lines(), "system", "init")["model"] == "claude-sonnet-4-5"


@pytest.mark.timeout(60)
def test_tool_policy_reaches_the_api(claude: RealClaude) -> None:
    claude.invoke(tools=ToolPolicyOptions(mode="denylist", deny=("Bash",))).ok()
    claude.invoke(tools=ToolPolicyOptions(mode="no_tools")).ok()
    denied, none = claude.api.messages_requests()
    names = {tool.get("name") for tool in denied.body.get("tools") or []}
    assert "Read" in names and "Bash" not in names
    assert not none.body.get("tools")


@pytest.mark.timeout(60)
def test_tokens_cost_and_session_equal_the_cli_result(claude: RealClaude) -> None:
    claude.api.play(streamed_text(usage=(100, 20)))
    result = claude.invoke().ok()
    lines = claude.cli_lines()
    final = the_line(lines, "result")
    assert (final["usage"]["input_tokens"], final["usage"]["output_tokens"]) == (100, 20)
    assert (result.input_tokens, result.output_tokens) == (100, 20)
    assert final["total_cost_usd"] > 0
    assert result.cost_usd == pytest.approx(final["total_cost_usd"])
    assert result.session_id == final["session_id"] == the_line(
        lines, "system", "init")["session_id"]


@pytest.mark.timeout(60)
def test_tool_use_then_text(claude: RealClaude) -> None:
    claude.api.play(tool_then_text(str(claude.notes), "The file says hello."))
    call = claude.invoke("What does notes.txt say?")
    result = call.ok()
    assert result.response == "The file says hello."
    assert [e["text"] for e in call.of("thinking")] == ["I should read the file."]
    [use] = call.of("tool_use")
    assert (use["tool_name"], use["tool_id"]) == ("Read", "toolu_01LoopbackRead")
    assert json.loads(use["input"]) == {"file_path": str(claude.notes)}
    [done] = call.of("tool_result")
    assert done["tool_id"] == "toolu_01LoopbackRead"
    assert "hello from notes" in done["content"]
    kinds = [e["type"] for _, e in call.events
             if e["type"] in ("thinking", "tool_use", "tool_result", "stream_delta")]
    assert kinds == ["thinking", "stream_delta", "tool_use", "tool_result", "stream_delta"]
    assert call.streamed() == "Let me read it.The file says hello."
    first, second = claude.api.messages_requests()
    [returned] = second.tool_results()
    assert returned["tool_use_id"] == "toolu_01LoopbackRead"
    assert "hello from notes" in json.dumps(returned["content"])
    assert [(e["event_type"], e["tool_id"]) for e in result.tool_events] == [
        ("tool_call", "toolu_01LoopbackRead"), ("tool_result", "toolu_01LoopbackRead")]
    assert len(second.messages) == len(first.messages) + 2  # the tool call and its result


@pytest.mark.timeout(60)
def test_cancelling_mid_stream_ends_within_a_second_and_leaves_no_process(
        claude: RealClaude) -> None:
    claude.api.play(slow_text(chunks=120, delay=0.25))  # 30 s of streaming
    cancel = CancelToken()
    calls: list[Call] = []
    worker = threading.Thread(
        target=lambda: calls.append(claude.invoke(recorded=False, cancel=cancel)),
        name="real-claude-cancel", daemon=True)
    worker.start()
    wait_until(lambda: len(claude.api.delta_times) >= 3, 30, "the stream to start")
    assert left_behind(claude.tag, 0), "the CLI should be running"
    sent = time.monotonic()
    cancel.cancel(Cancellation("user", "test"))
    worker.join(5)
    assert not worker.is_alive()
    [call] = calls
    assert call.failed().error_type == ErrorType.RUNNER_CANCELLED
    assert call.ended - sent < 1.0
    assert left_behind(claude.tag, 1.0) == []
    assert claude.api.disconnected.wait(1.0)


# --- the engine: ail-tui run --headless --runner claude -----------------------------------


@pytest.mark.timeout(90)
def test_headless_run_records_the_cli_tokens_cost_and_session(claude: RealClaude) -> None:
    claude.api.play(streamed_text("Hello", " from", " the engine.", usage=(100, 20)))
    run = claude.headless()
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    events = ndjson(out)
    deltas = [e["event"]["text"] for e in events
              if e["type"] == "runner_event" and e["event"]["type"] == "stream_delta"]
    assert "".join(deltas) == "Hello from the engine."
    final = the_line(claude.cli_lines(), "result")
    [entry] = claude.turn_entries()
    assert entry["response"] == "Hello from the engine."
    assert (entry["input_tokens"], entry["output_tokens"]) == (
        final["usage"]["input_tokens"], final["usage"]["output_tokens"])
    assert entry["cost_usd"] == pytest.approx(final["total_cost_usd"])
    assert entry["runner_session_id"] == final["session_id"]
    [completed] = [e for e in events if e["type"] == "step_completed"]
    assert completed["cost_usd"] == pytest.approx(final["total_cost_usd"])


@pytest.mark.timeout(90)
def test_headless_ctrl_c_mid_stream_ends_the_step_within_a_second(claude: RealClaude) -> None:
    claude.api.play(slow_text(chunks=120, delay=0.25))
    run = claude.headless(recorded=False)
    wait_until(lambda: len(claude.api.delta_times) >= 3, 30, "the stream to start")
    sent = time.time()
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=10)
    assert run.returncode == 130, err
    events = ndjson(out)
    ended = [e for e in events if e["type"] in ("step_cancelled", "step_failed",
                                                 "pipeline_error")]
    assert ended, events[-3:]
    assert ended[-1].get("error_type") in (None, ErrorType.RUNNER_CANCELLED)
    assert epoch(ended[0]["at"]) - sent < 1.0
    assert none_tagged_within(claude.tag, 1.0) == []


# --- issue 10: how the runner should behave once fixed ---------------------------------------


@pytest.mark.timeout(60)
def test_leading_dash_prompt_reaches_the_model(claude: RealClaude) -> None:
    call = claude.invoke("- check the tests")
    assert call.ok().response == "Hello from the loopback API."
    [sent] = claude.api.messages_requests()
    assert "- check the tests" in sent.texts()


@pytest.mark.timeout(60)
def test_every_append_system_prompt_reaches_the_model(claude: RealClaude) -> None:
    claude.invoke(append_system_prompts=("Rule one.", "Rule two.")).ok()
    [sent] = claude.api.messages_requests()
    assert "Rule one." in sent.system_text
    assert "Rule two." in sent.system_text


@pytest.mark.timeout(60)
@pytest.mark.parametrize("scenario", ["two_text_blocks", "tool_then_text"])
def test_input_tokens_are_counted_once_per_message(claude: RealClaude, scenario: str) -> None:
    answers = (two_text_blocks() if scenario == "two_text_blocks"
               else tool_then_text(str(claude.notes)))
    claude.api.play(answers)
    result = claude.invoke().ok()
    final = the_line(claude.cli_lines(), "result")
    assert result.input_tokens == final["usage"]["input_tokens"]
    assert result.output_tokens == final["usage"]["output_tokens"]
    assert result.cost_usd == pytest.approx(final["total_cost_usd"])


@pytest.mark.timeout(60)
def test_model_is_the_one_the_cli_reports(claude: RealClaude) -> None:
    result = claude.invoke().ok()
    lines = claude.cli_lines()
    model = the_line(lines, "system", "init")["model"]
    assert model and list(the_line(lines, "result")["modelUsage"]) == [model]
    assert result.model == model


@pytest.mark.timeout(90)
def test_headless_run_records_the_model_and_tokens_the_cli_reports(
        claude: RealClaude) -> None:
    claude.api.play(two_text_blocks())
    run = claude.headless()
    _, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    lines = claude.cli_lines()
    final = the_line(lines, "result")
    [entry] = claude.turn_entries()
    assert (entry["input_tokens"], entry["output_tokens"]) == (
        final["usage"]["input_tokens"], final["usage"]["output_tokens"])
    assert entry["cost_usd"] == pytest.approx(final["total_cost_usd"])
    assert entry.get("model") == the_line(lines, "system", "init")["model"]


def _one_clear_line(error: RunnerError, call: Call) -> str:
    """The error's detail, checked to be one line; the CLI's own words are not model text."""
    assert "\n" not in error.detail.strip(), error.detail
    assert call.of("stream_delta") == [], "the CLI's error message was streamed as an answer"
    return error.detail


@pytest.mark.timeout(60)
def test_authentication_failure_is_one_line_that_says_what_to_do(claude: RealClaude) -> None:
    claude.api.play(failure(401))
    call = claude.invoke()
    error = call.failed()
    assert error.error_type == ErrorType.RUNNER_AUTH_FAILED
    detail = _one_clear_line(error, call)
    assert "Invalid API key" in detail and "ANTHROPIC_API_KEY" in detail
    assert call.ended - call.started < 15


@pytest.mark.timeout(60)
def test_not_logged_in_is_an_auth_error_not_an_answer(claude: RealClaude) -> None:
    claude.seal(api_key=None)
    call = claude.invoke()
    error = call.failed()
    assert error.error_type == ErrorType.RUNNER_AUTH_FAILED
    detail = _one_clear_line(error, call)
    assert "Not logged in" in detail
    assert "ANTHROPIC_API_KEY" in detail or "/login" in detail
    assert claude.api.messages_requests() == []  # the CLI does not even try


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("scenario", "error_type", "said"), [
    ("429", ErrorType.RUNNER_RATE_LIMITED, "429"),
    ("500", ErrorType.RUNNER_INVOCATION_FAILED, "500"),
    ("529", ErrorType.RUNNER_OVERLOADED, "529"),
    ("refused", ErrorType.RUNNER_INVOCATION_FAILED, "Connection refused"),
])
def test_api_retries_are_reported_as_they_happen(
        claude: RealClaude, scenario: str, error_type: str, said: str) -> None:
    if scenario == "refused":
        claude.seal(base_url=refused_base_url(), max_retries=2)
    else:
        claude.seal(max_retries=2)
        claude.api.play(failure(int(scenario), retry_after=1 if scenario == "429" else None))
    call = claude.invoke()
    error = call.failed()
    retries = call.of("retry")
    assert [(e["attempt"], e["max_retries"]) for e in retries] == [(1, 2), (2, 2)]
    # Live: the first retry was told before the CLI waited for it, not with the failure.
    assert call.ended - call.at("retry")[0] > 0.4
    assert error.error_type == error_type
    assert said in _one_clear_line(error, call)
    if scenario != "refused":
        assert len(claude.api.messages_requests()) == 3


@pytest.mark.timeout(60)
def test_missing_session_error_keeps_the_cli_message(claude: RealClaude) -> None:
    call = claude.invoke(resume_session_id=MISSING_SESSION)
    error = call.failed()
    assert f"No conversation found with session ID: {MISSING_SESSION}" in error.detail
    assert "\n" not in error.detail.strip()


@pytest.mark.timeout(60)
def test_max_turns_error_is_typed(claude: RealClaude) -> None:
    claude.seal(CLAUDE_CODE_MAX_TURNS="1")
    claude.api.play(tool_then_text(str(claude.notes)))
    error = claude.invoke("What does notes.txt say?").failed()
    assert error.error_type == ErrorType.RUNNER_MAX_TURNS
    assert "Reached maximum number of turns (1)" in error.detail


@pytest.mark.timeout(60)
@pytest.mark.skipif(not AS_ROOT, reason="the CLI refuses only root")
def test_root_refusal_says_how_to_proceed(claude: RealClaude) -> None:
    claude.seal(sandbox=False)
    call = claude.invoke(headless=True)
    error = call.failed()
    assert error.error_type == ErrorType.RUNNER_REFUSED_AS_ROOT
    assert "IS_SANDBOX=1" in error.detail and "root" in error.detail
    assert claude.api.messages_requests() == []


@pytest.mark.timeout(60)
def test_denied_tool_use_is_marked(claude: RealClaude) -> None:
    target = claude.project / "out.txt"
    claude.api.play(write_then_text(str(target)))
    call = claude.invoke("Write out.txt", headless=False)
    call.ok()
    assert not target.exists()
    [result] = call.of("tool_result")
    assert result.get("is_error") is True
    marks = [e for _, e in call.events if e["type"] not in ("tool_use", "tool_result")
             and "Write" in json.dumps(e)]
    assert marks, "no event says the Write was denied"


@pytest.mark.timeout(60)
def test_subagent_activity_is_filed_under_its_tool_call(claude: RealClaude) -> None:
    with_subagent(claude.api, str(claude.notes))
    call = claude.invoke("Ask a sub-agent about notes.txt")
    assert call.ok().response == "The sub-agent says the notes say hello."
    uses = {e["tool_id"]: e for e in call.of("tool_use")}
    assert uses["toolu_01Agent"].get("parent_tool_id") is None
    assert uses["toolu_02SubagentRead"].get("parent_tool_id") == "toolu_01Agent"
    results = {e["tool_id"]: e for e in call.of("tool_result")}
    assert results["toolu_02SubagentRead"].get("parent_tool_id") == "toolu_01Agent"
    assert "Read notes.txt" not in call.streamed()


@pytest.mark.timeout(60)
def test_background_subagent_the_step_ends_with_the_clis_last_result(
        claude: RealClaude) -> None:
    with_subagent(claude.api, str(claude.notes), background=True)
    result = claude.invoke("Ask a sub-agent about notes.txt in the background").ok()
    finals = [line for line in claude.cli_lines() if line.get("type") == "result"]
    assert [line["result_index"] for line in finals] == [0, 1]
    assert result.response == finals[-1]["result"] == "The sub-agent says the notes say hello."
    # Each result's usage is its own turn's; the cost is the CLI's running total.
    assert (result.input_tokens, result.output_tokens) == (
        sum(line["usage"]["input_tokens"] for line in finals),
        sum(line["usage"]["output_tokens"] for line in finals))
    assert result.cost_usd == pytest.approx(finals[-1]["total_cost_usd"])
