"""The MCP server the Claude CLI asks for permission: ``python -m … SOCKET``.

The CLI starts it over stdio (``--mcp-config``) and calls its one tool through
``--permission-prompt-tool mcp__ail_tui__permission`` whenever a tool use needs permission.
Each call is relayed as one JSON line over the Unix socket ``SOCKET`` to the ail-tui run
that started the CLI (:class:`ail_tui.runners.permission_relay.PermissionRelay`), whose
one-line answer (``{"behavior": "allow", "updatedInput": {...}}`` or ``{"behavior":
"deny", "message": ...}``) becomes the tool's text result.

The MCP stdio transport is newline-delimited JSON-RPC 2.0; this server implements the
four requests the CLI sends (``initialize``, ``tools/list``, ``tools/call``, ``ping``) and
ignores notifications. It imports nothing from ail-tui but this module, so it starts fast.
"""

from __future__ import annotations

import json
import socket
import sys
from typing import IO, Any

SERVER_NAME = "ail_tui"
TOOL_NAME = "permission"
PROMPT_TOOL = f"mcp__{SERVER_NAME}__{TOOL_NAME}"
"""The name the CLI's ``--permission-prompt-tool`` takes."""
PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MAX_REQUEST_BYTES = 64 * 1024 * 1024
"""The largest request line the run reads from this server (a Write carries a whole file).

Lines from the CLI are read whole: the CLI is the trusted peer that started this server."""

TOOL = {
    "name": TOOL_NAME,
    "description": "Asks the person supervising the ail-tui run whether a tool may be used.",
    "inputSchema": {
        "type": "object",
        "properties": {
            "tool_name": {"type": "string"},
            "input": {"type": "object"},
            "tool_use_id": {"type": "string"},
        },
        "required": ["tool_name", "input"],
    },
}


def ask(socket_path: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Relay one permission request to the run; a deny when the run cannot be reached."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(socket_path)
            conn.sendall(_line(arguments))
            with conn.makefile("rb") as reader:
                line = reader.readline()
        answer = json.loads(line)
        if isinstance(answer, dict) and answer.get("behavior") in ("allow", "deny"):
            return answer
        reason = "the run sent no answer"
    except (OSError, ValueError) as exc:
        reason = f"the run could not be asked ({exc})"
    return {"behavior": "deny", "message": f"ail-tui: {reason}"}


def _line(value: Any) -> bytes:
    """One JSON line as UTF-8 (not ``\\u`` escapes, which make non-ASCII text 6× longer)."""
    return json.dumps(value, ensure_ascii=False).encode() + b"\n"


def _result(request_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def handle(message: Any, socket_path: str) -> dict[str, Any] | None:
    """The reply to one JSON-RPC message (None for a notification)."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return _error(None, -32600, "not a JSON-RPC 2.0 message")
    if "id" not in message:
        return None  # notifications (initialized, cancelled) need no reply
    request_id, method = message["id"], message.get("method")
    given = message.get("params")
    params: dict[str, Any] = given if isinstance(given, dict) else {}
    if method == "initialize":
        asked = params.get("protocolVersion")
        version = asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[-1]
        return _result(request_id, {
            "protocolVersion": version,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": SERVER_NAME, "version": "1"},
        })
    if method == "ping":
        return _result(request_id, {})
    if method == "tools/list":
        return _result(request_id, {"tools": [TOOL]})
    if method == "tools/call":
        if params.get("name") != TOOL_NAME:
            return _error(request_id, -32602, f"unknown tool: {params.get('name')}")
        arguments = params.get("arguments")
        answer = ask(socket_path, arguments if isinstance(arguments, dict) else {})
        text = json.dumps(answer, ensure_ascii=False)
        return _result(request_id, {"content": [{"type": "text", "text": text}]})
    return _error(request_id, -32601, f"method not found: {method}")


def serve(socket_path: str, stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Answer JSON-RPC lines from ``stdin`` until it closes."""
    for line in iter(stdin.readline, b""):
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError:
            reply: dict[str, Any] | None = _error(None, -32700, "parse error")
        else:
            reply = handle(message, socket_path)
        if reply is not None:
            stdout.write(_line(reply))
            stdout.flush()


def main(argv: list[str]) -> int:
    """``python -m ail_tui.runners.permission_mcp SOCKET``."""
    if len(argv) != 1:
        print("usage: python -m ail_tui.runners.permission_mcp SOCKET", file=sys.stderr)
        return 2
    serve(argv[0], sys.stdin.buffer, sys.stdout.buffer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
