"""Whether the claude CLI can run here: it starts, it has credentials, root is no obstacle.

A check starts ``claude --version`` (bounded by a timeout), so it belongs off the UI
thread. Credentials are looked for where Claude Code keeps them: the environment, the
provider's ``auth_token``, ``~/.claude/.credentials.json`` (``$CLAUDE_CONFIG_DIR``), an
``apiKeyHelper`` or ``env`` key in its ``settings.json``, a ``primaryApiKey`` in
``~/.claude.json``. On macOS a login lives in the keychain, which is not read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from ail_tui.files import FileReadError, read_text_file
from ail_tui.pipeline.models import Provider
from ail_tui.runners.claude_errors import AUTH_ADVICE, ROOT_ADVICE, one_line

VERSION_TIMEOUT_SECONDS = 5.0
KEY_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")
CLOUD_VARIABLES = {"CLAUDE_CODE_USE_BEDROCK": "Amazon Bedrock",
                   "CLAUDE_CODE_USE_VERTEX": "Google Vertex AI",
                   "CLAUDE_CODE_USE_FOUNDRY": "Microsoft Foundry"}
CONFIG_BYTES = 32 * 2**20
"""``~/.claude.json`` grows with every project claude has seen."""


def _json_object(path: Path) -> dict[str, object]:
    try:
        data = json.loads(read_text_file(path, CONFIG_BYTES, "claude config"))
    except (FileReadError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def credential_source(provider: Provider | None, env: Mapping[str, str],
                      home: Path) -> str | None:
    """Where claude would find credentials, or None when nowhere ail-tui can see."""
    if provider is not None and provider.auth_token:
        return "defaults.provider.auth_token"
    found = next((name for name in KEY_VARIABLES if env.get(name)), None)
    found = found or next((label for name, label in CLOUD_VARIABLES.items()
                           if env.get(name, "") not in ("", "0", "false")), None)
    if found:
        return found
    config = Path(env["CLAUDE_CONFIG_DIR"]) if env.get("CLAUDE_CONFIG_DIR") else (
        home / ".claude")
    if (config / ".credentials.json").is_file():
        return str(config / ".credentials.json")
    settings = _json_object(config / "settings.json")
    settings_env = settings.get("env")
    if settings.get("apiKeyHelper") or (isinstance(settings_env, dict) and any(
            settings_env.get(name) for name in KEY_VARIABLES)):
        return str(config / "settings.json")
    if _json_object(home / ".claude.json").get("primaryApiKey"):
        return str(home / ".claude.json")
    return "the macOS keychain (not checked)" if sys.platform == "darwin" else None


def cli_version(executable: str, env: Mapping[str, str], timeout: float) -> tuple[str, str]:
    """``(version, "")`` when ``claude --version`` answers in time, else ``("", why not)``."""
    child_env = {key: value for key, value in env.items() if key != "CLAUDECODE"}
    try:
        done = subprocess.run([executable, "--version"], capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=child_env, check=False)
    except subprocess.TimeoutExpired:
        return "", f"`claude --version` gave no answer within {timeout:g} s"
    except OSError as exc:
        return "", f"it does not start: {exc.strerror or exc}"
    out = done.stdout.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        said = one_line(done.stderr.decode("utf-8", "replace") or out, 200)
        return "", f"`claude --version` exited with {done.returncode}" + (
            f": {said}" if said else "")
    return one_line(out, 80) or "unknown version", ""


def is_refused_root(env: Mapping[str, str]) -> bool:
    """Whether claude would refuse ``--dangerously-skip-permissions`` here (root, no sandbox)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0 and env.get("IS_SANDBOX") != "1"


def check_claude(executable: str, provider: Provider | None, *, headless: bool,
                 env: Mapping[str, str], home: Path,
                 timeout: float = VERSION_TIMEOUT_SECONDS) -> tuple[bool, str]:
    """``(can run, why or what)`` for the CLI at ``executable`` (already found on PATH)."""
    version, problem = cli_version(executable, env, timeout)
    if problem:
        return False, f"{executable}: {problem}"
    source = credential_source(provider, env, home)
    if source is None:
        return False, f"{executable} {version}: no credentials found: {AUTH_ADVICE}"
    detail = f"{executable} {version} · credentials: {source}"
    if is_refused_root(env):
        if headless:
            return False, f"{detail} · {ROOT_ADVICE}"
        return True, f"{detail} · as root, headless runs are refused unless IS_SANDBOX=1"
    return True, detail
