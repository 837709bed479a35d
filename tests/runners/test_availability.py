"""Which runners a pipeline needs, and whether each can run on this machine."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest

from ail_tui.pipeline.validation import check_file
from ail_tui.runners.availability import check_runner, needed_runners


def load(tmp_path: Path, text: str):
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


def test_claude_is_available_only_when_on_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    missing = check_runner("claude")
    assert not missing.available and "not on PATH" in missing.detail
    fake = tmp_path / "claude"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    found = check_runner("claude")
    assert found.available and found.detail == str(fake)


def test_http_runner_is_checked_by_connecting(monkeypatch) -> None:
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
