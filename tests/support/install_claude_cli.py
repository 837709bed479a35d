#!/usr/bin/env python3
"""Installs the pinned Claude Code CLI that the real-CLI tests drive, and prints its path.

    python3 tests/support/install_claude_cli.py

installs ``@anthropic-ai/claude-code@CLAUDE_CODE_VERSION`` (with its native binary, from the
npm registry) into ``CACHE/claude-code-VERSION`` and prints the path of its ``claude``
executable on stdout. A copy already there that runs is reused. ``CACHE`` is
``$AIL_TEST_CLAUDE_CACHE``, else ``$XDG_CACHE_HOME/ail-tui``, else ``~/.cache/ail-tui``.

Exit status: 0 installed (or reused); 3 npm is not on PATH; 1 the install failed. In both
failures the reason is on stderr. Standard library only: CI runs it before any venv exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLAUDE_CODE_VERSION = "2.1.332"
PACKAGE = "@anthropic-ai/claude-code"
CACHE_VARIABLE = "AIL_TEST_CLAUDE_CACHE"
NPM_ABSENT = 3
INSTALL_TIMEOUT_SECONDS = 600
CHECK_TIMEOUT_SECONDS = 30
QUIET_ENV = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}
"""What every run of the CLI in the tests sets: no telemetry, updates or reports."""


def cache_root() -> Path:
    """Where pinned CLI installs live."""
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ail-tui"


def install_dir(version: str = CLAUDE_CODE_VERSION) -> Path:
    """The folder of one pinned install (an npm prefix)."""
    return cache_root() / f"claude-code-{version}"


def executable_in(prefix: Path) -> Path:
    """The ``claude`` executable npm links into ``prefix``."""
    return prefix / "node_modules" / ".bin" / "claude"


def check(executable: Path, version: str = CLAUDE_CODE_VERSION) -> str | None:
    """None when ``executable --version`` names ``version``, else why not."""
    if not executable.exists():
        return f"{executable} does not exist"
    with tempfile.TemporaryDirectory(prefix="claude-home-") as home:
        env = {**os.environ, **QUIET_ENV, "HOME": home}
        try:
            done = subprocess.run([str(executable), "--version"], capture_output=True,
                                  text=True, env=env, timeout=CHECK_TIMEOUT_SECONDS)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{executable} --version failed: {exc}"
    if done.returncode != 0 or version not in done.stdout:
        said = (done.stdout + done.stderr).strip()[-500:]
        return f"{executable} --version exited {done.returncode}: {said}"
    return None


def installed(version: str = CLAUDE_CODE_VERSION) -> Path | None:
    """The pinned executable when it is installed and runs, else None."""
    executable = executable_in(install_dir(version))
    return executable if check(executable, version) is None else None


def _npm_install(npm: str, prefix: Path, version: str) -> None:
    command = [npm, "install", "--prefix", str(prefix), "--no-save", "--no-audit",
               "--no-fund", "--no-update-notifier", "--loglevel=error",
               f"{PACKAGE}@{version}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"npm install took over {INSTALL_TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` exited {done.returncode}:\n"
                           + (done.stdout + done.stderr).strip()[-2000:])


def _run_postinstall(prefix: Path) -> None:
    """Run the package's own postinstall (npm may hold install scripts back)."""
    package = prefix / "node_modules" / PACKAGE
    node = shutil.which("node")
    if node is None or not (package / "install.cjs").exists():
        return
    subprocess.run([node, "install.cjs"], cwd=package, capture_output=True,
                   timeout=CHECK_TIMEOUT_SECONDS)


def install(version: str = CLAUDE_CODE_VERSION) -> Path:
    """Install ``version`` unless a working copy is cached; its executable.

    Raises FileNotFoundError when npm is absent and RuntimeError (with npm's output) when
    the install fails. The install goes to a scratch folder renamed into place, so a
    half-finished one is never taken for a cached copy.
    """
    found = installed(version)
    if found is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not on PATH")
    target = install_dir(version)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=target.parent))
    try:
        _npm_install(npm, scratch, version)
        if check(executable_in(scratch), version) is not None:
            _run_postinstall(scratch)
        problem = check(executable_in(scratch), version)
        if problem is not None:
            raise RuntimeError(f"installed, but the CLI does not run: {problem}")
        shutil.rmtree(target, ignore_errors=True)
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return executable_in(target)


def main() -> int:
    started = time.monotonic()
    try:
        executable = install()
    except FileNotFoundError as exc:
        print(f"install_claude_cli: {exc}; cannot install {PACKAGE}", file=sys.stderr)
        return NPM_ABSENT
    except (OSError, RuntimeError) as exc:
        print(f"install_claude_cli: installing {PACKAGE}@{CLAUDE_CODE_VERSION} failed: {exc}",
              file=sys.stderr)
        return 1
    print(f"install_claude_cli: {PACKAGE}@{CLAUDE_CODE_VERSION} ready in "
          f"{time.monotonic() - started:.1f} s", file=sys.stderr)
    print(executable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
