"""The real Claude Code CLI run through ail-tui, sealed and pointed at a loopback API.

:class:`RealClaude` seals this process's environment for the CLI (a temporary ``HOME``, a
dummy key, the loopback :class:`anthropic_api.AnthropicApi`), then runs prompts through
ail-tui's runner (:meth:`RealClaude.invoke`, returning a :class:`Call` with what was
emitted when) or a whole headless run (:meth:`RealClaude.headless`); a wrapper copies the
CLI's stdout so a test can compare ail-tui's accounting with the CLI's own lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from anthropic_api import AnthropicApi
from claude_cli import DUMMY_KEY, cli_variables, recording_wrapper, sealed_env, transcript_lines
from processes import tagged

from ail_tui.cancel import CancelToken
from ail_tui.runners.base import RunnerError, RunnerRequest, RunnerResult
from ail_tui.runners.claude import ClaudeCliRunner

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "Say hello"
MISSING_SESSION = "5f0c1e2a-8b7d-4c3e-9a61-2d4b7e9f0a13"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ONE_STEP = 'version: "1"\npipeline:\n  - id: ask\n    prompt: "Say hello"\n'

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


def ndjson(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def wait_until(test: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def left_behind(tag: str, within: float) -> list[int]:
    """The CLI's processes still alive after up to ``within`` seconds.

    This process's own process watchdog is left out: it lives as long as pytest and
    carries the tag when the first step process of the session started under it.
    """
    deadline = time.monotonic() + within
    while True:
        left = [pid for pid in tagged(tag) if not our_watchdog(pid)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def our_watchdog(pid: int) -> bool:
    try:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return False
    return parent == os.getpid() and b"ail_tui.processes.watchdog" in command
