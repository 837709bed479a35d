"""The permission bridge's relay: the run's Unix socket, driven directly as the MCP server
would.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from bridge_helpers import (
    ALLOW,
    ALLOW_STEP,
    DENY,
    WAIT,
    BlockingPerson,
    McpServer,
    ask_relay,
    bridge,
    in_thread,
    result_of,
    server_argv,
    wait_until,
)
from person import Person

from ail_tui.runners import permission_mcp
from ail_tui.runners.permission_relay import PermissionRelay
from ail_tui.runners.permissions import DENIED_BY_PERSON, PermissionDecision

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


@pytest.mark.timeout(30)
def test_a_relay_sweeps_the_folders_of_processes_that_are_gone(tmp_path: Path) -> None:
    from ail_tui.runners.permission_relay import FOLDER_PREFIX, sweep_stale_folders

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f"{FOLDER_PREFIX}{gone.stdout.strip()}-abc"
    live = tmp_path / f"{FOLDER_PREFIX}{os.getpid()}-def"
    other = tmp_path / "somebody-else-123"
    for folder in (stale, live, other):
        folder.mkdir()
        (folder / "mcp.json").write_text("{}")
    assert sweep_stale_folders(str(tmp_path)) == 1
    assert not stale.exists() and live.exists() and other.exists()
