"""One CLI invocation's permission requests, served on a private Unix socket.

:class:`PermissionRelay` makes a folder only its user can enter (mode 0700) holding a
listening socket and the ``--mcp-config`` file that starts
:mod:`ail_tui.runners.permission_mcp` with the socket's path. Each request the MCP
server relays is handed to the run's :data:`PermissionAsker` on a thread of its own (the
CLI may ask for several tool uses at once); a tool allowed "for this step" is allowed
again without asking until the invocation ends. :meth:`PermissionRelay.open` starts it;
leaving its ``with`` block closes the socket and the open connections and removes the
folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from ail_tui.processes.alive import process_alive
from ail_tui.runners import permission_mcp
from ail_tui.runners.permissions import PermissionAsker, PermissionDecision, PermissionRequest

FOLDER_PREFIX = "ail-tui-permissions-"
"""A relay's private folder is ``FOLDER_PREFIX<pid>-<random>`` in the temporary folder."""


def sweep_stale_folders(directory: str | None = None) -> int:
    """Remove the relay folders of processes that are gone (killed before they could
    clean up); returns how many. Only this user's, and never a live process's."""
    base = Path(directory or tempfile.gettempdir())
    removed = 0
    try:
        candidates = [p for p in base.iterdir() if p.name.startswith(FOLDER_PREFIX)]
    except OSError:
        return 0
    for folder in candidates:
        owner = folder.name[len(FOLDER_PREFIX):].split("-", 1)[0]
        if not owner.isdigit() or process_alive(int(owner)):
            continue
        with contextlib.suppress(OSError):
            if folder.is_dir() and not folder.is_symlink() and (
                    folder.stat().st_uid == os.getuid()):
                shutil.rmtree(folder)
                removed += 1
    return removed


class PermissionRelay:
    """Answers the MCP server's permission requests with ``asker`` for step ``step_id``."""

    def __init__(self, step_id: str, asker: PermissionAsker) -> None:
        self.step_id = step_id
        self.asker = asker
        self.allowed_tools: set[str] = set()
        self.denied_tool_uses: set[str] = set()
        """The ``tool_use_id`` of every call the person denied."""
        self._lock = threading.Lock()
        self._folder: Path | None = None
        self._server: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    @property
    def socket_path(self) -> Path:
        """The listening socket's path."""
        assert self._folder is not None, "the relay is not open"
        return self._folder / "permission.sock"

    @property
    def config_path(self) -> Path:
        """The ``--mcp-config`` file naming the permission server."""
        assert self._folder is not None, "the relay is not open"
        return self._folder / "mcp.json"

    def cli_flags(self) -> list[str]:
        """The claude CLI options that route permission requests here."""
        return ["--mcp-config", str(self.config_path),
                "--permission-prompt-tool", permission_mcp.PROMPT_TOOL]

    def open(self) -> PermissionRelay:
        """Make the folder, the socket and the config, and start answering."""
        sweep_stale_folders()
        self._folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))  # 0700
        try:
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(str(self.socket_path))
            server.listen(16)
            self._server = server
            config = {"mcpServers": {permission_mcp.SERVER_NAME: {
                "type": "stdio", "command": sys.executable,
                "args": ["-I", permission_mcp.__file__, str(self.socket_path)],
            }}}
            self.config_path.write_text(json.dumps(config), encoding="utf-8")
        except OSError:
            self._close()
            raise
        accept = threading.Thread(target=self._accept, args=(server,), daemon=True,
                                  name=f"permissions-{self.step_id}")
        accept.start()
        self._threads.append(accept)
        return self

    def __enter__(self) -> PermissionRelay:
        return self if self._server is not None else self.open()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._close()

    def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=1.0)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return  # closed
            with self._lock:
                self._connections.add(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True,
                                      name=f"permission-{self.step_id}")
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn, conn.makefile("rb") as reader:
                line = reader.readline(permission_mcp.MAX_REQUEST_BYTES)
                try:
                    request = self._request(json.loads(line))
                except ValueError:
                    answer: dict[str, Any] = {"behavior": "deny",
                                              "message": "ail-tui: malformed request"}
                else:
                    answer = self.decide(request).answer(request.input)
                conn.sendall(json.dumps(answer, ensure_ascii=False).encode() + b"\n")
        except OSError:
            pass  # the CLI went away; nobody is waiting for the answer
        finally:
            with self._lock:
                self._connections.discard(conn)

    def _request(self, data: Any) -> PermissionRequest:
        if not isinstance(data, dict) or not isinstance(data.get("tool_name"), str) or (
                not isinstance(data.get("input"), dict)):
            raise ValueError("not a permission request")
        tool_use_id = data.get("tool_use_id")
        return PermissionRequest(
            step_id=self.step_id, tool_name=data["tool_name"], input=data["input"],
            tool_use_id=tool_use_id if isinstance(tool_use_id, str) else None)

    def decide(self, request: PermissionRequest) -> PermissionDecision:
        """Ask the person, unless the tool is already allowed for this step."""
        with self._lock:
            if request.tool_name in self.allowed_tools:
                return PermissionDecision(allow=True, for_step=True)
        decision = self.asker(request)
        with self._lock:
            if decision.allow and decision.for_step:
                self.allowed_tools.add(request.tool_name)
            elif not decision.allow and request.tool_use_id:
                self.denied_tool_uses.add(request.tool_use_id)
        return decision
