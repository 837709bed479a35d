"""The Claude CLI runner: ``claude --output-format stream-json … -p -- PROMPT`` in its own group.

stdout is parsed line by line as it arrives (:mod:`ail_tui.runners.claude_stream`); stderr
is drained in the background and its tail kept for error messages. Cancellation ends the
child's whole process group, and so does every return path, so no process outlives a call.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Sequence
from typing import IO, Any

from ail_tui.cancel import CancelToken
from ail_tui.credentials import mask, masked_sink
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.processes.children import Child
from ail_tui.runners.base import (
    RunnerError,
    RunnerEventSink,
    RunnerRequest,
    RunnerResult,
    completed_event,
)
from ail_tui.runners.claude_errors import exit_failure, stream_end_failure
from ail_tui.runners.claude_stream import ClaudeStreamParser
from ail_tui.runners.permission_relay import PermissionRelay

EXIT_GRACE_SECONDS = 2.0
"""How long the CLI may take to exit on its own after its ``result`` line."""
STDERR_TAIL_BYTES = 4096
STDERR_TAIL_LINES = 3
INSTALL_HINT = ("install Claude Code (https://docs.anthropic.com/claude-code) or choose "
                "another runner with --runner / runner:")
_EFFORTS = ((0.25, "low"), (0.5, "medium"), (0.75, "high"))


def _effort(thinking: Any) -> str | None:
    """The ``--effort`` level for a ``sampling.thinking`` value, or None for no flag."""
    if not isinstance(thinking, int | float) or thinking <= 0:
        return None
    return next((name for limit, name in _EFFORTS if thinking <= limit), "max")


def _tool_flags(request: RunnerRequest) -> list[str]:
    tools = request.tools
    if tools.mode == "no_tools":
        return ["--tools", ""]
    flags: list[str] = []
    if tools.mode in ("allowlist", "mixed") and tools.allow:
        flags += ["--allowedTools", ",".join(tools.allow)]
    if tools.mode in ("denylist", "mixed") and tools.deny:
        flags += ["--disallowedTools", ",".join(tools.deny)]
    return flags


def resume_dropped(request: RunnerRequest) -> bool:
    """Whether ``resume_session_id`` is ignored because a ``base_url`` is set."""
    return bool(request.resume_session_id) and bool(request.base_url)


def claude_argv(request: RunnerRequest, executable: str,
                permission_flags: Sequence[str] = ()) -> list[str]:
    """The claude CLI command line for ``request`` (the prompt is always last, after ``--``).

    Headless runs skip permission checks; otherwise ``permission_flags`` (from a
    :class:`PermissionRelay`) route the CLI's permission requests to the person.
    """
    argv = [executable, "--output-format", "stream-json", "--verbose"]
    if request.headless:
        argv.append("--dangerously-skip-permissions")
    else:
        argv += permission_flags
    if request.resume_session_id and not resume_dropped(request):
        argv += ["--resume", request.resume_session_id]
    argv += _tool_flags(request)
    if request.model:
        argv += ["--model", request.model]
    if request.system_prompt:
        argv += ["--system-prompt", request.system_prompt]
    if request.append_system_prompts:  # the CLI keeps only the last of repeated flags
        argv += ["--append-system-prompt", "\n\n".join(request.append_system_prompts)]
    effort = _effort(request.sampling.get("thinking"))
    if effort is not None:
        argv += ["--effort", effort]
    return [*argv, "-p", "--", request.prompt]  # "--": a prompt may start with "-"


def claude_env(request: RunnerRequest) -> dict[str, str]:
    """The child's environment: ours without ``CLAUDECODE``, plus the provider overrides."""
    env = dict(os.environ)
    env.pop("CLAUDECODE", None)
    if request.base_url:
        env["ANTHROPIC_BASE_URL"] = request.base_url
    if request.auth_token:
        env["ANTHROPIC_AUTH_TOKEN"] = request.auth_token
    return env


def _failed(detail: str) -> RunnerError:
    return RunnerError(ErrorType.RUNNER_INVOCATION_FAILED, detail)


def _cancelled() -> RunnerError:
    return RunnerError(ErrorType.RUNNER_CANCELLED, "cancelled")


_EOF = object()
_WAKE = object()


class _Child:
    """A started CLI process: stdout lines queued by a reader thread, a stderr tail kept."""

    def __init__(self, child: Child) -> None:
        process = child.process
        assert process.stdout is not None and process.stderr is not None
        self.child = child
        self.lines: queue.Queue[object] = queue.Queue()
        self._stderr = bytearray()
        self._lock = threading.Lock()
        self._done = False
        self._readers = [
            threading.Thread(target=self._read_stdout, args=(process.stdout,),
                             name=f"claude-out-{process.pid}", daemon=True),
            threading.Thread(target=self._read_stderr, args=(process.stderr,),
                             name=f"claude-err-{process.pid}", daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self, pipe: IO[bytes]) -> None:
        with pipe:
            for raw in iter(pipe.readline, b""):
                self.lines.put(raw.decode("utf-8", "replace"))
        self.lines.put(_EOF)

    def _read_stderr(self, pipe: IO[bytes]) -> None:
        with pipe:
            for chunk in iter(lambda: os.read(pipe.fileno(), STDERR_TAIL_BYTES), b""):
                with self._lock:
                    self._stderr += chunk
                    del self._stderr[:-STDERR_TAIL_BYTES]

    def stderr_tail(self) -> str:
        """The last lines of stderr, stripped ("" when there was none)."""
        with self._lock:
            text = self._stderr.decode("utf-8", "replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return "\n".join(lines[-STDERR_TAIL_LINES:])

    def kill(self) -> None:
        """End the process group now and wake the line consumer (the cancel callback)."""
        self.child.terminate()
        self.lines.put(_WAKE)

    def finish(self, grace: float) -> int | None:
        """Let the process exit within ``grace`` seconds, else end its group; reap it.

        Whatever it left running is ended too. Returns the exit code.
        """
        if not self._done:
            self._done = True
            self.child.finish(self._readers, grace)
        return self.child.process.returncode


class ClaudeCliRunner:
    """Runs prompts through the Claude Code CLI (``claude -p``) in stream-json mode."""

    name = "claude"

    def __init__(self, executable: str = "claude", *,
                 exit_grace: float = EXIT_GRACE_SECONDS) -> None:
        self.executable = executable
        self.exit_grace = exit_grace

    def invoke(
        self, request: RunnerRequest, emit: RunnerEventSink, cancel: CancelToken
    ) -> RunnerResult:
        """Run the prompt, streaming events; raise :class:`RunnerError` on failure or cancel."""
        secret = request.auth_token
        try:
            return self._invoke(request, masked_sink(emit, secret), cancel)
        except RunnerError as exc:
            raise RunnerError(exc.error_type, mask(exc.detail, secret)) from None

    def resolve_executable(self) -> str:
        """The executable to start: a path as given, else found on ``PATH``."""
        exe = self.executable
        if os.sep in exe or (os.altsep and os.altsep in exe):
            if not os.path.exists(exe):
                raise _failed(f"Could not start the claude CLI: '{exe}' was not found; "
                              f"{INSTALL_HINT}")
            return os.path.abspath(exe)
        found = shutil.which(exe)
        if found is None:
            raise _failed(f"Could not start the claude CLI: '{exe}' was not found on PATH; "
                          f"{INSTALL_HINT}")
        return found

    def _invoke(
        self, request: RunnerRequest, emit: RunnerEventSink, cancel: CancelToken
    ) -> RunnerResult:
        executable = self.resolve_executable()
        if cancel.cancelled:
            raise _cancelled()
        if request.headless or request.permissions is None:
            return self._run(claude_argv(request, executable), request,
                             ClaudeStreamParser(emit), cancel)
        try:
            relay = PermissionRelay(request.step_id, request.permissions).open()
        except OSError as exc:  # its private folder or socket
            raise _failed("Could not set up permission requests for the claude CLI: "
                          f"{exc.strerror or exc}") from None
        with relay:
            return self._run(claude_argv(request, executable, relay.cli_flags()), request,
                             ClaudeStreamParser(emit, relay.denied_tool_uses), cancel)

    def _run(self, argv: list[str], request: RunnerRequest, parser: ClaudeStreamParser,
             cancel: CancelToken) -> RunnerResult:
        emit = parser.emit
        if resume_dropped(request):
            emit({"type": "warning",
                  "message": f"Not resuming claude session {request.resume_session_id}: "
                             "--resume is not passed to the claude CLI when base_url is set"})
        try:
            started = Child(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=request.cwd, env=claude_env(request))
        except OSError as exc:
            raise _failed(f"Could not start the claude CLI: {exc.strerror or exc}") from None
        child = _Child(started)
        unregister = cancel.on_cancel(child.kill)
        try:
            return self._consume(child, parser, cancel, emit)
        finally:
            unregister()
            child.finish(0)

    @staticmethod
    def _completed(child: _Child, parser: ClaudeStreamParser, grace: float,
                   emit: RunnerEventSink) -> RunnerResult:
        child.finish(grace)
        assert parser.result is not None
        emit(completed_event(parser.result))
        return parser.result

    def _consume(
        self, child: _Child, parser: ClaudeStreamParser, cancel: CancelToken,
        emit: RunnerEventSink,
    ) -> RunnerResult:
        while True:
            item = child.lines.get()
            if cancel.cancelled:
                raise _cancelled()
            if item is _EOF:
                break
            if isinstance(item, str) and parser.feed(item) and not parser.more_results:
                return self._completed(child, parser, self.exit_grace, emit)
        code = child.finish(self.exit_grace)
        if cancel.cancelled:
            raise _cancelled()
        if parser.result is not None:  # the last of several results
            return self._completed(child, parser, 0, emit)
        if code != 0:
            raise exit_failure(code, child.stderr_tail(), parser.signals)
        raise stream_end_failure(parser.signals)

