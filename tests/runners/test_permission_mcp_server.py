"""The permission bridge's MCP stdio server, run as a real subprocess (``python -I
permission_mcp.py SOCKET``, as the ``--mcp-config`` file says) and driven over its
stdin/stdout as the Claude CLI does, relaying each ``tools/call`` to a real relay whose
asker the test controls.
"""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from bridge_helpers import ALLOW, ALLOW_STEP, DENY, WAIT, bridge, mcp_server
from person import Person

from ail_tui.runners import permission_mcp
from ail_tui.runners.permissions import DENIED_BY_PERSON, PermissionDecision, PermissionRequest

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
