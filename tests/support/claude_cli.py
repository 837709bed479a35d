"""The real Claude Code CLI for the tests: where it is, and the sealed world it runs in.

:func:`claude_cli_or_skip` finds the executable: ``$AIL_TEST_CLAUDE_CLI`` when set, else
the pinned copy that ``tests/support/install_claude_cli.py`` put in its cache folder. When
there is none the tests are skipped with the reason (npm absent, or not installed yet and
how to install it); with ``AIL_TEST_REQUIRE_CLAUDE_CLI=1`` (CI, when npm is there) they
fail instead, so a broken install is never a quiet skip.

:func:`cli_variables` is the environment every run gets: a temporary ``HOME`` (the real
``~/.claude`` is never touched; the XDG folders, the CLI's temporary folder and its socket
are under it too), the loopback API as ``ANTHROPIC_BASE_URL``, a dummy key,
no telemetry, update checks, error reports or other traffic, few API retries, and
``IS_SANDBOX=1`` so that ``--dangerously-skip-permissions`` works as root. Whatever the
calling shell had for Anthropic or Claude Code (keys, base URLs, models, proxies) is
removed.

:func:`recording_wrapper` writes a ``claude`` that runs the real one and copies its stdout
to a file, so a test can compare what ail-tui recorded with the CLI's own ``result``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from install_claude_cli import (
    CLAUDE_CODE_VERSION,
    QUIET_ENV,
    check,
    executable_in,
    install_dir,
)

OVERRIDE_VARIABLE = "AIL_TEST_CLAUDE_CLI"
REQUIRE_VARIABLE = "AIL_TEST_REQUIRE_CLAUDE_CLI"
DUMMY_KEY = "sk-ant-api03-loopback-dummy-key"
INSTALLER = "tests/support/install_claude_cli.py"
_DROPPED_PREFIXES = ("ANTHROPIC_", "CLAUDE_", "CLAUDECODE", "IS_SANDBOX", "AWS_BEARER")
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")

_located: tuple[Path | None, str] | None = None


def locate() -> tuple[Path | None, str]:
    """The CLI executable that runs, or None and why there is none (checked once)."""
    global _located
    if _located is None:
        _located = _locate()
    return _located


def _locate() -> tuple[Path | None, str]:
    override = os.environ.get(OVERRIDE_VARIABLE)
    if override:
        problem = check(Path(override))
        if problem is not None:
            return None, f"{OVERRIDE_VARIABLE}={override} cannot be used: {problem}"
        return Path(override), ""
    executable = executable_in(install_dir())
    if check(executable) is None:
        return executable, ""
    if shutil.which("npm") is None:
        return None, ("npm is not on PATH, so the real Claude Code CLI "
                      f"(@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}) cannot be installed")
    return None, (f"the real Claude Code CLI {CLAUDE_CODE_VERSION} is not installed: run "
                  f"`python3 {INSTALLER}` (or set {OVERRIDE_VARIABLE} to a claude executable)")


def claude_cli_or_skip() -> Path:
    """The real CLI's executable; skips the test (fails it under CI's require flag)."""
    executable, reason = locate()
    if executable is None:
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"the real Claude Code CLI is required here: {reason}")
        pytest.skip(reason)
    return executable


def cli_variables(home: Path, base_url: str, *, api_key: str | None = DUMMY_KEY,
                  sandbox: bool = True, max_retries: int | None = 0,
                  tag: str | None = None) -> dict[str, str | None]:
    """The variables to set (None: to remove) for one sealed run of the CLI.

    ``max_retries`` is ``CLAUDE_CODE_MAX_RETRIES`` (the CLI's default is 10 retries over
    about three minutes); None leaves the CLI's default. ``tag`` is ``AIL_TEST_TAG``.
    """
    changes: dict[str, str | None] = {
        name: None for name in os.environ
        if name.startswith(_DROPPED_PREFIXES) or name.upper() in _PROXIES
    }
    for sub in (".config", ".cache", ".local/share", ".local/state", "run", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    changes.update(QUIET_ENV)
    changes.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_RUNTIME_DIR": str(home / "run"),  # its socket, else in /tmp/cc-socks
        "CLAUDE_CODE_TMPDIR": str(home / "tmp"),  # task output, else in /tmp/claude-<uid>
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": api_key,
        "IS_SANDBOX": "1" if sandbox else None,
        "CLAUDE_CODE_MAX_RETRIES": None if max_retries is None else str(max_retries),
    })
    if tag is not None:
        changes["AIL_TEST_TAG"] = tag
    return changes


def sealed_env(changes: dict[str, str | None],
               base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: ours) with ``changes`` applied, for a subprocess."""
    env = dict(os.environ if base is None else base)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def recording_wrapper(bin_dir: Path, executable: Path, transcript: Path) -> Path:
    """Write ``bin_dir/claude``: the real CLI with its stdout also appended to ``transcript``.

    The wrapper exits with the CLI's status. It is for tests that compare ail-tui's
    accounting with the CLI's own lines, not for cancellation tests (it adds a shell and
    ``tee`` to the process group).
    """
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "claude"
    wrapper.write_text("#!/usr/bin/env bash\nset -o pipefail\n"
                       f'"{executable}" "$@" | tee -a "{transcript}"\n')
    wrapper.chmod(0o755)
    return wrapper


def transcript_lines(transcript: Path) -> list[dict[str, Any]]:
    """The JSON lines a recording wrapper saved (``claude --version`` prints plain text)."""
    text = transcript.read_text(encoding="utf-8") if transcript.exists() else ""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def the_line(lines: list[dict[str, Any]], kind: str, subtype: str | None = None) -> dict[str, Any]:
    """The one line of ``kind`` (and ``subtype``) in a transcript."""
    found = [line for line in lines if line.get("type") == kind
             and (subtype is None or line.get("subtype") == subtype)]
    assert len(found) == 1, f"expected one {kind}/{subtype} line, found {len(found)}"
    return found[0]
