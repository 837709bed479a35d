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
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from anthropic_api import (
    AnthropicApi,
    failure,
    refused_base_url,
    slow_text,
    streamed_text,
    tool_then_text,
    two_text_blocks,
    with_subagent,
    write_then_text,
)
from claude_cli import (
    DUMMY_KEY,
    cli_variables,
    recording_wrapper,
    sealed_env,
    the_line,
    transcript_lines,
)
from processes import none_tagged_within, tagged

from ail_tui.cancel import Cancellation, CancelToken
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import RunnerError, RunnerRequest, RunnerResult, ToolPolicyOptions
from ail_tui.runners.claude import ClaudeCliRunner

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "Say hello"
MISSING_SESSION = "5f0c1e2a-8b7d-4c3e-9a61-2d4b7e9f0a13"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ONE_STEP = 'version: "1"\npipeline:\n  - id: ask\n    prompt: "Say hello"\n'

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                                reason="finds the CLI's processes through /proc")


@dataclass
class Call:
    """One runner invocation: what it returned or raised, and what it emitted when."""

    result: RunnerResult | None = None
    error: RunnerError | None = None
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append((time.monotonic(), event))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [event for _, event in self.events if event.get("type") == kind]

    def at(self, kind: str) -> list[float]:
        return [when for when, event in self.events if event.get("type") == kind]

    def streamed(self) -> str:
        return "".join(event["text"] for event in self.of("stream_delta"))

    def ok(self) -> RunnerResult:
        assert self.error is None, f"{self.error.error_type}: {self.error.detail}"
        assert self.result is not None
        return self.result

    def failed(self) -> RunnerError:
        assert self.error is not None, f"expected an error, got {self.result}"
        return self.error


class RealClaude:
    """The real CLI, sealed and pointed at the loopback API, run through ail-tui."""

    def __init__(self, executable: Path, api: AnthropicApi, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> None:
        self.executable = executable
        self.api = api
        self.monkeypatch = monkeypatch
        self.home = tmp_path / "home"
        self.project = tmp_path / "project"
        self.ail_home = tmp_path / "ail-home"
        for folder in (self.home, self.project, self.ail_home):
            folder.mkdir()
        self.notes = self.project / "notes.txt"
        self.notes.write_text("hello from notes\n", encoding="utf-8")
        self.tag = f"real-claude-{uuid.uuid4().hex}"
        self.transcript = tmp_path / "cli-stdout.jsonl"
        self.wrapper = recording_wrapper(tmp_path / "bin", executable, self.transcript)
        self.bare_bin = tmp_path / "bare-bin"
        self.bare_bin.mkdir()
        (self.bare_bin / "claude").symlink_to(executable)
        self.seal()

    def seal(self, *, base_url: str | None = None, api_key: str | None = DUMMY_KEY,
             sandbox: bool = True, max_retries: int | None = 0, **extra: str) -> None:
        """Set this process's environment (which the runner passes on) for the CLI."""
        changes = cli_variables(self.home, base_url or self.api.base_url, api_key=api_key,
                                sandbox=sandbox, max_retries=max_retries, tag=self.tag)
        changes.update(extra)
        for name, value in changes.items():
            if value is None:
                self.monkeypatch.delenv(name, raising=False)
            else:
                self.monkeypatch.setenv(name, value)

    def request(self, prompt: str = PROMPT, **fields: Any) -> RunnerRequest:
        return RunnerRequest(step_id="ask", prompt=prompt, cwd=str(self.project), **fields)

    def invoke(self, prompt: str = PROMPT, *, recorded: bool = True,
               cancel: CancelToken | None = None, **fields: Any) -> Call:
        """Run one prompt through :class:`ClaudeCliRunner` (``recorded``: via the wrapper)."""
        runner = ClaudeCliRunner(str(self.wrapper if recorded else self.executable))
        call = Call(started=time.monotonic())
        try:
            call.result = runner.invoke(self.request(prompt, **fields), call,
                                        cancel or CancelToken())
        except RunnerError as exc:
            call.error = exc
        call.ended = time.monotonic()
        return call

    def cli_lines(self) -> list[dict[str, Any]]:
        """What the CLI printed on stdout in this test (through the wrapper)."""
        return transcript_lines(self.transcript)

    def headless(self, pipeline: str = ONE_STEP, *,
                 recorded: bool = True) -> subprocess.Popen[str]:
        """Start ``ail-tui run PIPELINE --headless --runner claude`` with ``claude`` on PATH."""
        path = self.project / "ask.ail.yaml"
        path.write_text(pipeline, encoding="utf-8")
        bin_dir = self.wrapper.parent if recorded else self.bare_bin
        python_path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env = sealed_env({"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                          "AIL_HOME": str(self.ail_home), "PYTHONPATH": python_path})
        return subprocess.Popen(
            [sys.executable, "-m", "ail_tui", "run", str(path), "--headless",
             "--runner", "claude"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            cwd=self.project)

    def turn_entries(self) -> list[dict[str, Any]]:
        """The step entries of the one turn log the run wrote."""
        [log] = list(self.ail_home.rglob("*.jsonl"))
        records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        return [record for record in records if "type" not in record]


@pytest.fixture
def claude(real_claude_cli: Path, anthropic_api: AnthropicApi, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> RealClaude:
    return RealClaude(real_claude_cli, anthropic_api, tmp_path, monkeypatch)


def _ndjson(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _wait_until(test: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _left_behind(tag: str, within: float) -> list[int]:
    """The CLI's processes still alive after up to ``within`` seconds.

    This process's own process watchdog is left out: it lives as long as pytest and
    carries the tag when the first step process of the session started under it.
    """
    deadline = time.monotonic() + within
    while True:
        left = [pid for pid in tagged(tag) if not _our_watchdog(pid)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def _our_watchdog(pid: int) -> bool:
    try:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return False
    return parent == os.getpid() and b"ail_tui.processes.watchdog" in command


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
    assert _left_behind(claude.tag, 2.0) == []


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
    _wait_until(lambda: len(claude.api.delta_times) >= 3, 30, "the stream to start")
    assert _left_behind(claude.tag, 0), "the CLI should be running"
    sent = time.monotonic()
    cancel.cancel(Cancellation("user", "test"))
    worker.join(5)
    assert not worker.is_alive()
    [call] = calls
    assert call.failed().error_type == ErrorType.RUNNER_CANCELLED
    assert call.ended - sent < 1.0
    assert _left_behind(claude.tag, 1.0) == []
    assert claude.api.disconnected.wait(1.0)


# --- the engine: ail-tui run --headless --runner claude -----------------------------------


@pytest.mark.timeout(90)
def test_headless_run_records_the_cli_tokens_cost_and_session(claude: RealClaude) -> None:
    claude.api.play(streamed_text("Hello", " from", " the engine.", usage=(100, 20)))
    run = claude.headless()
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    events = _ndjson(out)
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
    _wait_until(lambda: len(claude.api.delta_times) >= 3, 30, "the stream to start")
    sent = time.time()
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=10)
    assert run.returncode == 130, err
    events = _ndjson(out)
    ended = [e for e in events if e["type"] in ("step_cancelled", "step_failed",
                                                 "pipeline_error")]
    assert ended, events[-3:]
    assert ended[-1].get("error_type") in (None, ErrorType.RUNNER_CANCELLED)
    assert _epoch(ended[0]["at"]) - sent < 1.0
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
