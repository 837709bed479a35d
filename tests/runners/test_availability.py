"""Which runners a pipeline needs, and whether each can run on this machine."""

from __future__ import annotations

import os
import shutil
import socket
import textwrap
from pathlib import Path

import pytest

from ail_tui.pipeline.loader import Pipeline
from ail_tui.pipeline.models import Provider
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.availability import check_runner, needed_runners
from ail_tui.runners.claude_check import CLOUD_VARIABLES, KEY_VARIABLES, check_claude

SLEEP = shutil.which("sleep")


def load(tmp_path: Path, text: str) -> Pipeline:
    path = tmp_path / "p.ail.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    result = check_file(path)
    assert result.pipeline is not None and result.valid
    return result.pipeline


def test_needed_runners_walks_steps_chains_loops_and_named_pipelines(tmp_path: Path) -> None:
    pipeline = load(tmp_path, """
        version: "1"
        pipeline:
          - id: a
            prompt: x
          - id: b
            prompt: y
            runner: " HTTP "
          - id: sh
            context: {shell: "true"}
          - id: off
            prompt: z
            runner: codex
            disabled: true
          - id: loop
            do_while:
              max_iterations: 2
              exit_when: "{{ step.inner.response }} contains 'x'"
              steps:
                - id: inner
                  prompt: again
                  runner: ollama
        pipelines:
          side:
            - id: s
              prompt: q
              runner: stub
        """)
    assert needed_runners(pipeline, "claude") == ["claude", "http", "ollama", "stub"]
    shell_only = load(tmp_path, """
        version: "1"
        pipeline:
          - id: sh
            context: {shell: "true"}
        """)
    assert needed_runners(shell_only, "claude") == []
    assert needed_runners(shell_only, "stub", invocation=True) == ["stub"]


@pytest.fixture
def claude_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No credentials anywhere, not root, an empty home; the folder for a fake claude."""
    for name in (*KEY_VARIABLES, *CLOUD_VARIABLES, "CLAUDE_CONFIG_DIR", "IS_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def fake_cli(bin_dir: Path, body: str = 'echo "2.1.3 (Claude Code)"') -> Path:
    path = bin_dir / "claude"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_claude_missing_from_path(claude_env: Path) -> None:
    missing = check_runner("claude")
    assert not missing.available and "not on PATH" in missing.detail


def test_claude_with_an_api_key_runs(claude_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = fake_cli(claude_env)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-123")
    check = check_runner("claude")
    assert check.available
    assert check.detail == f"{path} 2.1.3 (Claude Code) · credentials: ANTHROPIC_API_KEY"


def test_claude_without_credentials_says_how_to_log_in(claude_env: Path) -> None:
    fake_cli(claude_env)
    check = check_runner("claude")
    assert not check.available
    assert "no credentials found" in check.detail and "/login" in check.detail
    assert "ANTHROPIC_API_KEY" in check.detail


@pytest.mark.parametrize(("where", "content"), [
    (".claude/.credentials.json", '{"claudeAiOauth": {"accessToken": "x"}}'),
    (".claude/settings.json", '{"apiKeyHelper": "~/bin/key.sh"}'),
    (".claude/settings.json", '{"env": {"ANTHROPIC_API_KEY": "sk-ant-abc"}}'),
    (".claude.json", '{"primaryApiKey": "sk-ant-abc"}'),
])
def test_claude_credentials_in_its_files(claude_env: Path, tmp_path: Path, where: str,
                                         content: str) -> None:
    fake_cli(claude_env)
    target = tmp_path / "home" / where
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    check = check_runner("claude")
    assert check.available and check.detail.endswith(f"credentials: {target}")


def test_claude_provider_token_counts(claude_env: Path) -> None:
    fake_cli(claude_env)
    provider = Provider.model_validate({"auth_token": "tok-123456"})
    assert check_runner("claude", provider).available


@pytest.mark.parametrize(("body", "words"), [
    ("echo 'segfault' >&2; exit 3", "`claude --version` exited with 3: segfault"),
    (f"exec {SLEEP} 5", "`claude --version` gave no answer within 0.3 s"),
])
def test_claude_that_does_not_run(claude_env: Path, body: str, words: str) -> None:
    path = fake_cli(claude_env, body)
    available, detail = check_claude(str(path), None, headless=False, env=os.environ,
                                     home=Path.home(), timeout=0.3)
    assert not available and detail == f"{path}: {words}"


def test_claude_as_root(claude_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_cli(claude_env)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-123")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    dashboard = check_runner("claude")  # the dashboard does not skip permissions
    assert dashboard.available and "headless runs are refused unless IS_SANDBOX=1" in (
        dashboard.detail)
    headless = check_runner("claude", headless=True)
    assert not headless.available
    assert "run ail-tui as a non-root user, or set IS_SANDBOX=1" in headless.detail
    monkeypatch.setenv("IS_SANDBOX", "1")
    sandbox = check_runner("claude", headless=True)
    assert sandbox.available and "IS_SANDBOX" not in sandbox.detail


def test_http_runner_is_checked_by_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.setenv("AIL_HTTP_BASE_URL", f"http://127.0.0.1:{port}/v1")
        assert check_runner("http").available
    closed = check_runner("ollama")  # nothing listens there any more
    assert not closed.available and "cannot connect" in closed.detail


@pytest.mark.parametrize(("name", "words"), [("codex", "not supported"),
                                             ("gpt9", "not a known runner")])
def test_unknown_and_unsupported_runners_say_so(name: str, words: str) -> None:
    check = check_runner(name)
    assert not check.available and words in check.detail
