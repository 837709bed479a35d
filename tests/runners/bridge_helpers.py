"""Driving the permission bridge in tests: the MCP server as a subprocess, the relay over its
socket, and a person who answers when told."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ail_tui.runners import permission_mcp
from ail_tui.runners.permission_relay import PermissionRelay
from ail_tui.runners.permissions import PermissionDecision, PermissionRequest

WAIT = 10.0
"""The longest any single answer is waited for."""
ALLOW = PermissionDecision(allow=True)
ALLOW_STEP = PermissionDecision(allow=True, for_step=True)
DENY = PermissionDecision(allow=False)


class BlockingPerson:
    """An asker that holds the first request until ``release`` is set; answers others at once.

    ``first_asked`` is set once the first request reached it.
    """

    def __init__(self, first: PermissionDecision, then: PermissionDecision = ALLOW) -> None:
        self.first, self.then = first, then
        self.first_asked = threading.Event()
        self.release = threading.Event()
        self.asked: list[PermissionRequest] = []
        self.lock = threading.Lock()

    def __call__(self, request: PermissionRequest) -> PermissionDecision:
        with self.lock:
            self.asked.append(request)
            is_first = len(self.asked) == 1
        if not is_first:
            return self.then
        self.first_asked.set()
        assert self.release.wait(WAIT), "the blocked asker was never released"
        return self.first


class McpServer:
    """The permission MCP server as a subprocess; JSON-RPC lines in, replies out."""

    def __init__(self, argv: list[str]) -> None:
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, b""):
            self.lines.put(line)
        self.lines.put(None)

    def send_raw(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_raw(json.dumps(message).encode() + b"\n")

    def next_line(self) -> bytes | None:
        """The next stdout line (None at end of output)."""
        try:
            return self.lines.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"no reply within {WAIT}s; stderr: {self.stderr()}") from None

    def reply(self) -> dict[str, Any]:
        line = self.next_line()
        assert line is not None, f"the server ended; stderr: {self.stderr()}"
        assert line.endswith(b"\n")
        message = json.loads(line)
        assert isinstance(message, dict)
        return message

    def request(self, request_id: Any, method: str, params: Any = None) -> dict[str, Any]:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.reply()

    def call_permission(self, request_id: int, arguments: dict[str, Any]) -> dict[str, Any]:
        """The answer a ``tools/call`` of the permission tool carries as its text content."""
        reply = self.request(request_id, "tools/call",
                             {"name": permission_mcp.TOOL_NAME, "arguments": arguments})
        assert reply["id"] == request_id
        content = reply["result"]["content"]
        assert [part["type"] for part in content] == ["text"]
        answer = json.loads(content[0]["text"])
        assert isinstance(answer, dict)
        return answer

    def stderr(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return "(still running)"
        return self.process.stderr.read().decode(errors="replace")

    def close(self) -> int:
        """Close stdin; the exit status once the server ended."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=WAIT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def server_argv(socket_path: Path | str) -> list[str]:
    return [sys.executable, "-I", permission_mcp.__file__, str(socket_path)]


@contextlib.contextmanager
def mcp_server(socket_path: Path | str) -> Iterator[McpServer]:
    server = McpServer(server_argv(socket_path))
    try:
        yield server
    finally:
        server.kill()


@contextlib.contextmanager
def bridge(asker: Callable[[PermissionRequest], PermissionDecision],
           step_id: str = "step-1") -> Iterator[tuple[PermissionRelay, McpServer]]:
    """A relay and the server its config starts, talking over the relay's socket."""
    with PermissionRelay(step_id, asker).open() as relay:
        config = json.loads(relay.config_path.read_text(encoding="utf-8"))
        entry = config["mcpServers"][permission_mcp.SERVER_NAME]
        server = McpServer([entry["command"], *entry["args"]])
        try:
            yield relay, server
        finally:
            server.kill()


def ask_relay(socket_path: Path, payload: dict[str, Any] | bytes) -> dict[str, Any]:
    """One request line to the relay's socket, as the server sends it; the answer line."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode() + b"\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(WAIT)
        conn.connect(str(socket_path))
        conn.sendall(data)
        with conn.makefile("rb") as reader:
            line = reader.readline()
    assert line.endswith(b"\n"), f"no whole answer line: {line!r}"
    answer = json.loads(line)
    assert isinstance(answer, dict)
    return answer


def in_thread(work: Callable[[], dict[str, Any]]) -> queue.Queue[dict[str, Any] | BaseException]:
    """Runs ``work`` on a daemon thread; its result (or error) arrives on the queue."""
    results: queue.Queue[dict[str, Any] | BaseException] = queue.Queue()

    def run() -> None:
        try:
            results.put(work())
        except BaseException as exc:
            results.put(exc)

    threading.Thread(target=run, daemon=True).start()
    return results


def result_of(results: queue.Queue[dict[str, Any] | BaseException]) -> dict[str, Any]:
    result = results.get(timeout=WAIT)
    if isinstance(result, BaseException):
        raise result
    return result


def wait_until(test: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
