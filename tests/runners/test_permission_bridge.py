"""The permission bridge: the MCP stdio server the CLI starts, and the run's Unix-socket relay.

The server runs as a real subprocess (``python -I permission_mcp.py SOCKET``, as the
``--mcp-config`` file says) driven over its stdin/stdout like the Claude CLI does, and
relays each ``tools/call`` to a real :class:`PermissionRelay` whose asker the test controls.
The relay is also driven directly over its socket, as the server would.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from person import Person

from ail_tui.runners import permission_mcp
from ail_tui.runners.permission_relay import PermissionRelay
from ail_tui.runners.permissions import DENIED_BY_PERSON, PermissionDecision, PermissionRequest

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


# --- the MCP server over stdio ------------------------------------------------------------


@pytest.mark.timeout(30)
def test_initialize_echoes_a_known_version_and_offers_tools(tmp_path: Path) -> None:
    with mcp_server(tmp_path / "unused.sock") as server:
        for number, version in enumerate(permission_mcp.PROTOCOL_VERSIONS, start=1):
            reply = server.request(number, "initialize", {
                "protocolVersion": version, "capabilities": {},
                "clientInfo": {"name": "claude-code", "version": "2"}})
            assert reply["jsonrpc"] == "2.0"
            assert reply["id"] == number
            result = reply["result"]
            assert result["protocolVersion"] == version
            assert "tools" in result["capabilities"]
            assert result["serverInfo"]["name"] == permission_mcp.SERVER_NAME
        assert server.close() == 0


@pytest.mark.timeout(30)
def test_initialize_with_an_unknown_version_falls_back_to_the_newest(tmp_path: Path) -> None:
    newest = max(permission_mcp.PROTOCOL_VERSIONS)
    with mcp_server(tmp_path / "unused.sock") as server:
        reply = server.request("init", "initialize", {"protocolVersion": "1999-01-01"})
        assert reply["id"] == "init"
        assert reply["result"]["protocolVersion"] == newest
        no_params = server.request(2, "initialize")
        assert no_params["result"]["protocolVersion"] == newest
        assert server.close() == 0


@pytest.mark.timeout(30)
def test_notifications_and_blank_lines_get_no_reply(tmp_path: Path) -> None:
    with mcp_server(tmp_path / "unused.sock") as server:
        server.request(1, "initialize", {"protocolVersion": "2025-06-18"})
        server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        server.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
                     "params": {"requestId": 7, "reason": "user"}})
        server.send_raw(b"\n   \n")
        assert server.request(2, "ping") == {"jsonrpc": "2.0", "id": 2, "result": {}}
        assert server.close() == 0


@pytest.mark.timeout(30)
def test_tools_list_offers_the_permission_tool(tmp_path: Path) -> None:
    with mcp_server(tmp_path / "unused.sock") as server:
        reply = server.request(3, "tools/list", {})
        tools = reply["result"]["tools"]
        assert [tool["name"] for tool in tools] == [permission_mcp.TOOL_NAME]
        schema = tools[0]["inputSchema"]
        assert schema["type"] == "object"
        assert {"tool_name", "input"} <= set(schema["required"])
        assert {"tool_name", "input"} <= set(schema["properties"])
        assert permission_mcp.PROMPT_TOOL == "mcp__ail_tui__permission"
        assert server.close() == 0


@pytest.mark.timeout(30)
def test_errors_for_unknown_methods_unknown_tools_and_garbage(tmp_path: Path) -> None:
    with mcp_server(tmp_path / "unused.sock") as server:
        unknown = server.request(4, "resources/list", {})
        assert unknown["id"] == 4
        assert unknown["error"]["code"] == -32601
        assert "result" not in unknown

        tool = server.request(5, "tools/call", {"name": "Bash", "arguments": {}})
        assert tool["id"] == 5
        assert tool["error"]["code"] == -32602

        server.send_raw(b"{this is not json\n")
        garbage = server.reply()
        assert garbage["id"] is None
        assert garbage["error"]["code"] == -32700

        for not_rpc in ({"id": 6, "method": "ping"}, {"jsonrpc": "1.0", "id": 6},
                        [{"jsonrpc": "2.0", "id": 6, "method": "ping"}], "ping"):
            server.send(not_rpc)  # type: ignore[arg-type]
            invalid = server.reply()
            assert invalid["error"]["code"] == -32600, not_rpc

        # still serving after every error
        assert server.request(7, "ping")["result"] == {}
        assert server.close() == 0


@pytest.mark.timeout(30)
def test_the_server_exits_0_when_stdin_closes(tmp_path: Path) -> None:
    with mcp_server(tmp_path / "unused.sock") as server:
        assert server.close() == 0
        assert server.next_line() is None


@pytest.mark.timeout(30)
def test_the_server_without_its_socket_argument_exits_2(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-I", permission_mcp.__file__], input=b"",
                          capture_output=True, timeout=WAIT, check=False)
    assert done.returncode == 2
    assert b"usage" in done.stderr


# --- the server relaying tools/call to a real relay ---------------------------------------


@pytest.mark.timeout(30)
def test_allowed_call_answers_allow_with_the_input() -> None:
    person = Person(ALLOW)
    tool_input = {"file_path": "/tmp/ünïcode.txt", "content": "line 1\nline 2\n\"quoted\"\t"}
    with bridge(person, step_id="write") as (_relay, server):
        server.request(0, "initialize", {"protocolVersion": "2025-06-18"})
        server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        answer = server.call_permission(1, {"tool_name": "Write", "input": tool_input,
                                            "tool_use_id": "toolu_01"})
        assert answer == {"behavior": "allow", "updatedInput": tool_input}
        assert person.asked == [PermissionRequest(step_id="write", tool_name="Write",
                                                  input=tool_input, tool_use_id="toolu_01")]
        assert server.close() == 0


@pytest.mark.timeout(30)
def test_denied_call_answers_deny_with_the_reason() -> None:
    person = Person(PermissionDecision(allow=False, reason="not that file"))
    with bridge(person) as (relay, server):
        answer = server.call_permission(2, {"tool_name": "Edit", "input": {"file_path": "x"},
                                            "tool_use_id": "toolu_02"})
        assert answer == {"behavior": "deny", "message": "not that file"}
        assert relay.denied_tool_uses == {"toolu_02"}
        assert server.close() == 0


@pytest.mark.timeout(30)
def test_denied_call_without_a_reason_answers_the_default_message() -> None:
    person = Person(DENY)
    with bridge(person) as (_relay, server):
        answer = server.call_permission(3, {"tool_name": "Bash", "input": {"command": "ls"}})
        assert answer == {"behavior": "deny", "message": DENIED_BY_PERSON}
        assert person.asked[0].tool_use_id is None
        assert server.close() == 0


@pytest.mark.timeout(30)
def test_call_without_arguments_is_denied_as_malformed_without_asking() -> None:
    person = Person(ALLOW)
    with bridge(person) as (_relay, server):
        reply = server.request(4, "tools/call", {"name": permission_mcp.TOOL_NAME})
        answer = json.loads(reply["result"]["content"][0]["text"])
        assert answer == {"behavior": "deny", "message": "ail-tui: malformed request"}
        assert person.asked == []
        assert server.close() == 0


@pytest.mark.timeout(30)
def test_allow_for_step_through_the_server_asks_once() -> None:
    person = Person(ALLOW_STEP)
    with bridge(person) as (relay, server):
        first = server.call_permission(1, {"tool_name": "Write", "input": {"n": 1}})
        second = server.call_permission(2, {"tool_name": "Write", "input": {"n": 2}})
        assert first == {"behavior": "allow", "updatedInput": {"n": 1}}
        assert second == {"behavior": "allow", "updatedInput": {"n": 2}}
        assert len(person.asked) == 1
        assert relay.allowed_tools == {"Write"}
        assert server.close() == 0


@pytest.mark.timeout(30)
def test_a_large_non_ascii_input_well_under_the_line_limit_is_still_asked() -> None:
    content = "é" * 1_500_000  # 3 MB of UTF-8; as \u escapes it would be 9 MB
    person = Person(ALLOW)
    with bridge(person) as (_relay, server):
        request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": permission_mcp.TOOL_NAME,
            "arguments": {"tool_name": "Write", "input": {"content": content}}}}
        line = json.dumps(request, ensure_ascii=False).encode() + b"\n"
        assert len(line) < permission_mcp.MAX_REQUEST_BYTES // 2
        server.send_raw(line)
        reply = server.reply()
        answer = json.loads(reply["result"]["content"][0]["text"])
        assert [asked.tool_name for asked in person.asked] == ["Write"], answer.get("message")
        assert answer == {"behavior": "allow", "updatedInput": {"content": content}}
        assert server.close() == 0


# --- the server when the run cannot answer ------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("listener", ["missing", "not listening"])
def test_unreachable_run_is_a_deny(tmp_path: Path, listener: str) -> None:
    path = tmp_path / "gone.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stale:
        if listener == "not listening":  # a socket file whose owner never listens
            stale.bind(str(path))
        with mcp_server(path) as server:
            answer = server.call_permission(1, {"tool_name": "Write", "input": {}})
            assert answer["behavior"] == "deny"
            assert answer["message"].startswith("ail-tui: the run could not be asked")
            assert server.close() == 0


def fake_run(path: Path, answer: bytes) -> tuple[socket.socket, queue.Queue[bytes]]:
    """A listener that reads one request line and answers ``answer`` (then closes)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    received: queue.Queue[bytes] = queue.Queue()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as reader:
            received.put(reader.readline())
            conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return listener, received


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("sent", "message"), [
    (b'{"behavior": "maybe"}\n', "ail-tui: the run sent no answer"),
    (b"[]\n", "ail-tui: the run sent no answer"),
    (b"", "ail-tui: the run could not be asked"),
    (b"not json\n", "ail-tui: the run could not be asked"),
])
def test_a_run_answering_nonsense_is_a_deny(tmp_path: Path, sent: bytes, message: str) -> None:
    path = tmp_path / "run.sock"
    listener, received = fake_run(path, sent)
    with listener, mcp_server(path) as server:
        arguments = {"tool_name": "Read", "input": {"file_path": "a"}, "tool_use_id": "t"}
        answer = server.call_permission(1, arguments)
        assert json.loads(received.get(timeout=WAIT)) == arguments
        assert answer["behavior"] == "deny"
        assert answer["message"].startswith(message)
        assert server.close() == 0


# --- the relay ------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_relay_folder_is_private_and_the_config_names_the_server() -> None:
    with PermissionRelay("step-1", Person()).open() as relay:
        folder = relay.socket_path.parent
        assert relay.config_path.parent == folder
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_ISSOCK(relay.socket_path.stat().st_mode)
        config = json.loads(relay.config_path.read_text(encoding="utf-8"))
        entry = config["mcpServers"][permission_mcp.SERVER_NAME]
        assert entry["type"] == "stdio"
        assert [entry["command"], *entry["args"]] == server_argv(relay.socket_path)
        assert entry["command"] == sys.executable
        assert relay.cli_flags() == ["--mcp-config", str(relay.config_path),
                                     "--permission-prompt-tool", "mcp__ail_tui__permission"]


@pytest.mark.timeout(30)
def test_relay_allow_for_step_asks_once_per_tool() -> None:
    person = Person(ALLOW_STEP, ALLOW_STEP)
    with PermissionRelay("step-1", person).open() as relay:
        path = relay.socket_path
        first = ask_relay(path, {"tool_name": "Write", "input": {"a": 1}, "tool_use_id": "1"})
        second = ask_relay(path, {"tool_name": "Write", "input": {"a": 2}, "tool_use_id": "2"})
        assert first == {"behavior": "allow", "updatedInput": {"a": 1}}
        assert second == {"behavior": "allow", "updatedInput": {"a": 2}}
        assert [request.tool_use_id for request in person.asked] == ["1"]

        other = ask_relay(path, {"tool_name": "Bash", "input": {"command": "ls"},
                                 "tool_use_id": "3"})
        assert other == {"behavior": "allow", "updatedInput": {"command": "ls"}}
        assert [request.tool_name for request in person.asked] == ["Write", "Bash"]
        assert relay.allowed_tools == {"Write", "Bash"}


@pytest.mark.timeout(30)
def test_relay_allow_once_asks_every_time() -> None:
    person = Person(ALLOW, ALLOW)
    with PermissionRelay("step-1", person).open() as relay:
        for number in (1, 2):
            answer = ask_relay(relay.socket_path, {"tool_name": "Write", "input": {"n": number}})
            assert answer == {"behavior": "allow", "updatedInput": {"n": number}}
        assert len(person.asked) == 2
        assert relay.allowed_tools == set()


@pytest.mark.timeout(30)
def test_relay_records_the_denied_tool_uses() -> None:
    person = Person(DENY, ALLOW, PermissionDecision(allow=False, reason="no"), DENY)
    with PermissionRelay("step-1", person).open() as relay:
        path = relay.socket_path
        denied = ask_relay(path, {"tool_name": "Bash", "input": {}, "tool_use_id": "toolu_1"})
        ask_relay(path, {"tool_name": "Bash", "input": {}, "tool_use_id": "toolu_2"})
        ask_relay(path, {"tool_name": "Write", "input": {}, "tool_use_id": "toolu_3"})
        ask_relay(path, {"tool_name": "Write", "input": {}})  # denied, but no id to record
        assert denied == {"behavior": "deny", "message": DENIED_BY_PERSON}
        assert relay.denied_tool_uses == {"toolu_1", "toolu_3"}
        assert relay.allowed_tools == set()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("line", [
    b"not json\n",
    b"[1, 2]\n",
    b'"Write"\n',
    b'{"input": {}}\n',
    b'{"tool_name": 3, "input": {}}\n',
    b"\n",
])
def test_relay_denies_a_malformed_request_without_asking(line: bytes) -> None:
    person = Person(ALLOW)
    with PermissionRelay("step-1", person).open() as relay:
        answer = ask_relay(relay.socket_path, line)
        assert answer == {"behavior": "deny", "message": "ail-tui: malformed request"}
        assert person.asked == []
        # and the relay still answers well-formed requests afterwards
        good = ask_relay(relay.socket_path, {"tool_name": "Read", "input": {"f": "x"}})
        assert good == {"behavior": "allow", "updatedInput": {"f": "x"}}


@pytest.mark.timeout(30)
def test_relay_serves_a_second_request_while_the_first_is_still_asked() -> None:
    person = BlockingPerson(first=PermissionDecision(allow=False, reason="later no"))
    with PermissionRelay("step-1", person).open() as relay:
        path = relay.socket_path
        try:
            first = in_thread(lambda: ask_relay(path, {"tool_name": "Write", "input": {},
                                                       "tool_use_id": "slow"}))
            assert person.first_asked.wait(WAIT)
            second = ask_relay(path, {"tool_name": "Read", "input": {"f": 1},
                                      "tool_use_id": "fast"})
            assert second == {"behavior": "allow", "updatedInput": {"f": 1}}
            assert first.empty()  # the first is still waiting for the person
        finally:
            person.release.set()
        assert result_of(first) == {"behavior": "deny", "message": "later no"}
        assert relay.denied_tool_uses == {"slow"}


@pytest.mark.timeout(30)
def test_two_concurrent_server_calls_are_both_served() -> None:
    """Two MCP servers (the CLI may run several) asking at once through one relay."""
    person = BlockingPerson(first=ALLOW)
    with bridge(person) as (relay, slow_server):
        fast_server = McpServer(server_argv(relay.socket_path))
        try:
            first = in_thread(lambda: slow_server.call_permission(
                1, {"tool_name": "Write", "input": {"n": 1}}))
            assert person.first_asked.wait(WAIT)
            second = fast_server.call_permission(1, {"tool_name": "Bash", "input": {"n": 2}})
            assert second == {"behavior": "allow", "updatedInput": {"n": 2}}
            person.release.set()
            assert result_of(first) == {"behavior": "allow", "updatedInput": {"n": 1}}
            assert fast_server.close() == 0
            assert slow_server.close() == 0
        finally:
            person.release.set()
            fast_server.kill()


@pytest.mark.timeout(30)
def test_a_client_gone_while_the_person_decides_does_not_break_the_relay() -> None:
    person = BlockingPerson(first=PermissionDecision(allow=False), then=ALLOW_STEP)
    with PermissionRelay("step-1", person).open() as relay:
        path = relay.socket_path
        try:
            gone = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            gone.settimeout(WAIT)
            gone.connect(str(path))
            gone.sendall(b'{"tool_name": "Write", "input": {}, "tool_use_id": "gone"}\n')
            assert person.first_asked.wait(WAIT)
            gone.close()
        finally:
            person.release.set()
        # the answer for the vanished client was decided (and could not be sent)
        wait_until(lambda: "gone" in relay.denied_tool_uses, "the vanished call's denial")
        for number in (1, 2):
            answer = ask_relay(path, {"tool_name": "Read", "input": {"n": number}})
            assert answer == {"behavior": "allow", "updatedInput": {"n": number}}
        assert len(person.asked) == 2  # Read was allowed for the step on its first ask


@pytest.mark.timeout(30)
def test_a_client_gone_before_sending_does_not_break_the_relay() -> None:
    person = Person(ALLOW)
    with PermissionRelay("step-1", person).open() as relay:
        for partial in (b"", b'{"tool_name": "Wri'):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.connect(str(relay.socket_path))
                conn.sendall(partial)
        answer = ask_relay(relay.socket_path, {"tool_name": "Read", "input": {}})
        assert answer == {"behavior": "allow", "updatedInput": {}}
        assert [request.tool_name for request in person.asked] == ["Read"]


@pytest.mark.timeout(30)
def test_leaving_the_relay_removes_the_folder_and_the_socket() -> None:
    person = Person(ALLOW)
    with PermissionRelay("step-1", person).open() as relay:
        path, folder = relay.socket_path, relay.socket_path.parent
        assert ask_relay(path, {"tool_name": "Read", "input": {}})["behavior"] == "allow"
    assert not folder.exists()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn, \
            pytest.raises(OSError):
        conn.connect(str(path))


@pytest.mark.timeout(30)
def test_leaving_the_relay_ends_a_connection_still_waiting_for_the_person() -> None:
    person = BlockingPerson(first=ALLOW)
    relay = PermissionRelay("step-1", person).open()
    try:
        with relay:
            waiting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            waiting.settimeout(WAIT)
            waiting.connect(str(relay.socket_path))
            waiting.sendall(b'{"tool_name": "Write", "input": {}}\n')
            assert person.first_asked.wait(WAIT)
        with waiting:
            try:
                rest = waiting.recv(1024)
            except ConnectionResetError:
                rest = b""
        assert rest == b""  # closed by the relay, no answer
        assert not relay.socket_path.parent.exists()
    finally:
        person.release.set()


@pytest.mark.timeout(30)
def test_leaving_an_unopened_relay_with_block_opens_then_closes_it() -> None:
    relay = PermissionRelay("step-1", Person(ALLOW))
    with relay as opened:
        assert opened is relay
        folder = relay.socket_path.parent
        answer = ask_relay(relay.socket_path, {"tool_name": "Read", "input": {"x": 1}})
        assert answer == {"behavior": "allow", "updatedInput": {"x": 1}}
    assert not folder.exists()
