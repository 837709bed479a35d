"""The claude CLI command line built for each request option."""

from __future__ import annotations

from typing import Any

import pytest

from ail_tui.runners.base import RunnerRequest, ToolPolicyOptions
from ail_tui.runners.claude import claude_argv

BASE = ["claude", "--output-format", "stream-json", "--verbose"]


def argv(**options: Any) -> list[str]:
    return claude_argv(RunnerRequest(step_id="s", prompt="do it", **options), "claude")


def test_minimal_headless_request() -> None:
    assert argv() == [*BASE, "--dangerously-skip-permissions", "-p", "--", "do it"]


def test_not_headless_asks_for_permissions() -> None:
    assert argv(headless=False) == [*BASE, "-p", "--", "do it"]


def test_executable_comes_first() -> None:
    request = RunnerRequest(step_id="s", prompt="x")
    assert claude_argv(request, "/opt/bin/claude")[0] == "/opt/bin/claude"


def test_resume_session() -> None:
    assert argv(resume_session_id="abc") == [
        *BASE, "--dangerously-skip-permissions", "--resume", "abc", "-p", "--", "do it"]


def test_resume_dropped_with_base_url() -> None:
    assert "--resume" not in argv(resume_session_id="abc", base_url="http://127.0.0.1:9")


@pytest.mark.parametrize(("tools", "flags"), [
    (ToolPolicyOptions("runner_default"), []),
    (ToolPolicyOptions("no_tools"), ["--tools", ""]),
    (ToolPolicyOptions("allowlist", allow=("Read", "Bash(git log:*)")),
     ["--allowedTools", "Read,Bash(git log:*)"]),
    (ToolPolicyOptions("denylist", deny=("Write", "Edit")), ["--disallowedTools", "Write,Edit"]),
    (ToolPolicyOptions("mixed", allow=("Read",), deny=("Bash",)),
     ["--allowedTools", "Read", "--disallowedTools", "Bash"]),
])
def test_tool_modes(tools: ToolPolicyOptions, flags: list[str]) -> None:
    assert argv(headless=False, tools=tools) == [*BASE, *flags, "-p", "--", "do it"]


@pytest.mark.parametrize(("thinking", "effort"), [
    (None, None), (0, None), (-1, None), (0.1, "low"), (0.25, "low"), (0.26, "medium"),
    (0.5, "medium"), (0.75, "high"), (0.76, "max"), (1.0, "max"), (5, "max"), ("high", None),
])
def test_effort_thresholds(thinking: Any, effort: str | None) -> None:
    sampling = {"temperature": 0.2, "top_p": 0.9}
    if thinking is not None:
        sampling["thinking"] = thinking
    flags = ["--effort", effort] if effort else []
    assert argv(headless=False, sampling=sampling) == [*BASE, *flags, "-p", "--", "do it"]


def test_all_options_in_order() -> None:
    result = argv(
        resume_session_id="sess-1",
        tools=ToolPolicyOptions("mixed", allow=("Read", "Grep"), deny=("Bash",)),
        model="claude-sonnet-4-5",
        system_prompt="You are terse.",
        append_system_prompts=("Rule one.", "Rule two."),
        sampling={"thinking": 0.4, "max_tokens": 100},
    )
    assert result == [
        *BASE, "--dangerously-skip-permissions", "--resume", "sess-1",
        "--allowedTools", "Read,Grep", "--disallowedTools", "Bash",
        "--model", "claude-sonnet-4-5", "--system-prompt", "You are terse.",
        "--append-system-prompt", "Rule one.\n\nRule two.",
        "--effort", "medium", "-p", "--", "do it",
    ]


@pytest.mark.parametrize("prompt", ["--model x", "- check the tests", "-p"])
def test_prompt_that_looks_like_a_flag_follows_a_double_dash(prompt: str) -> None:
    result = claude_argv(RunnerRequest(step_id="s", prompt=prompt), "claude")
    assert result[-3:] == ["-p", "--", prompt]


def test_append_system_prompts_become_one_flag() -> None:
    """The CLI keeps only the last of repeated --append-system-prompt flags."""
    result = argv(headless=False, append_system_prompts=("One.", "Two.", "Three."))
    assert result.count("--append-system-prompt") == 1
    assert result[result.index("--append-system-prompt") + 1] == "One.\n\nTwo.\n\nThree."
    assert "--append-system-prompt" not in argv(headless=False)
