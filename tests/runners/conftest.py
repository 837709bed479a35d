"""Real protocol peers for the runner tests: a fake ``claude`` on PATH, a loopback server."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from anthropic_api import AnthropicApi
from claude_cli import claude_cli_or_skip
from loopback_server import LoopbackServer
from real_claude import RealClaude

FAKE_CLAUDE = Path(__file__).with_name("fake_claude.py")
HTTP_ENV = ("AIL_HTTP_BASE_URL", "AIL_HTTP_TOKEN", "AIL_HTTP_MODEL", "AIL_HTTP_THINK")
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def fake_claude_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Puts a ``claude`` that replays ``FAKE_CLAUDE_SCENARIO`` first on PATH; its folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "claude"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_CLAUDE}" "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("FAKE_CLAUDE_RECORD", str(tmp_path / "record.json"))
    return bin_dir


@pytest.fixture
def http_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """A loopback OpenAI-compatible server; no AIL_HTTP_* or proxy variable leaks in."""
    for name in HTTP_ENV + PROXIES:
        monkeypatch.delenv(name, raising=False)
    server = LoopbackServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def real_claude_cli() -> Path:
    """The real Claude Code CLI's executable (the test is skipped when there is none)."""
    return claude_cli_or_skip()


@pytest.fixture
def anthropic_api() -> Iterator[AnthropicApi]:
    """A loopback Anthropic Messages API (see ``tests/support/anthropic_api.py``)."""
    server = AnthropicApi()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def claude(real_claude_cli: Path, anthropic_api: AnthropicApi, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> RealClaude:
    """The real CLI, sealed, against the loopback API (see ``tests/support/real_claude.py``)."""
    return RealClaude(real_claude_cli, anthropic_api, tmp_path, monkeypatch)
