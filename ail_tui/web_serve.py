"""The web server of ``ail-tui serve``: textual-serve's, on which each browser session
runs one dashboard process (this same ail-tui) that ends with its session and with the
server.

textual-serve ends a session's process when its websocket closes: the process is told
to quit, and waited for. At Ctrl+C (or SIGTERM, or a hang-up), aiohttp would leave open
websockets open for up to a minute; here their sessions end at once, so every dashboard
has quit before the server exits. Should the server die without stopping (``kill -9``), each
dashboard gets SIGTERM from the kernel where ``setpriv --pdeathsig`` is there (Linux).
A dashboard's run, in a process of its own, is cancelled when its dashboard ends.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence

from aiohttp import web
from textual_serve.server import Server

EXIT_OK, EXIT_FAILED = 0, 1
STOP_SECONDS = 10.0
"""How long the server waits, as it stops, for its sessions to end."""


class DashboardServer(Server):
    """textual-serve's server on a socket bound beforehand, without a log line per
    request, whose sessions end when it stops."""

    def __init__(self, command: str, listener: socket.socket, *, host: str, title: str,
                 public_url: str | None = None) -> None:
        port = int(listener.getsockname()[1])
        super().__init__(command, host=host, port=port, title=title, public_url=public_url)
        self._listener = listener
        self._sessions: dict[asyncio.Task[object], asyncio.Event] = {}
        """The task serving each browser session, and the event set when it has ended."""

    def initialize_logging(self) -> None:
        """textual-serve's logging, without aiohttp's line for every request."""
        super().initialize_logging()
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    def serve(self, debug: bool = False) -> None:
        """Serve until Ctrl+C, SIGTERM or a hang-up."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, self.request_exit)
        web.run_app(self._make_app(), sock=self._listener, handle_signals=False, loop=loop,
                    print=self._listening)

    async def on_startup(self, app: web.Application) -> None:
        """Nothing is said yet (textual-serve shows its logo): the page opens only once
        the server listens."""

    def _listening(self, *_: object) -> None:
        sys.stdout.write(f"ail-tui: serving the dashboard on {self.public_url} "
                         "(Ctrl+C stops)\n")
        sys.stdout.flush()

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One browser session: its dashboard runs until the websocket closes."""
        session = asyncio.current_task()
        ended = asyncio.Event()
        if session is not None:
            self._sessions[session] = ended
        try:
            return await super().handle_websocket(request)
        finally:
            ended.set()
            if session is not None:
                del self._sessions[session]

    async def on_shutdown(self, app: web.Application) -> None:
        """End every session now: each tells its dashboard to quit and waits for it."""
        sessions = dict(self._sessions)
        for session in sessions:
            session.cancel()
        if sessions:
            ended = [asyncio.create_task(event.wait()) for event in sessions.values()]
            await asyncio.wait(ended, timeout=STOP_SECONDS)


def served_command(app_args: Sequence[str], parent_death: Sequence[str] = ()) -> str:
    """The shell command a browser session runs: this ail-tui with ``app_args``, started
    by ``parent_death`` (see :func:`parent_death_prefix`)."""
    return "exec " + shlex.join([*parent_death, sys.executable, "-m", "ail_tui", *app_args])


def parent_death_prefix() -> list[str]:
    """A command prefix by which a dashboard gets SIGTERM when the server dies, even by
    ``kill -9`` (util-linux's ``setpriv --pdeathsig``); empty where there is none."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return []
    try:
        usage = subprocess.run([setpriv, "--help"], capture_output=True, text=True,
                               timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [setpriv, "--pdeathsig", "TERM", "--"] if "--pdeathsig" in usage else []


def bound_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``port`` at ``host`` (0: a free port); OSError when it cannot
    be (in use, an unknown host)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    bound = socket.socket(family, kind, proto)
    try:
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart at once
        bound.bind(address)
    except OSError:
        bound.close()
        raise
    return bound


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` stands for is this machine's loopback."""
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(
        ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses)


def serve_dashboard(app_args: Sequence[str], host: str, port: int,
                    public_url: str | None = None) -> int:
    """Serve ``ail-tui APP_ARGS`` on ``host:port`` until Ctrl+C or SIGTERM; exit code."""
    try:
        listener = bound_socket(host, port)
    except OSError as error:
        return _cannot_serve(host, port, error)
    if not is_loopback(host):
        sys.stderr.write(f"ail-tui: warning: listening on {host}, reachable from other "
                         "machines: anyone who reaches the page starts, cancels and "
                         "answers runs as you\n")
    with listener:
        DashboardServer(served_command(app_args, parent_death_prefix()), listener,
                        host=host, title=" ".join(["ail-tui", *app_args]),
                        public_url=public_url).serve()
    sys.stdout.write("ail-tui: stopped serving\n")
    return EXIT_OK


def _cannot_serve(host: str, port: int, error: OSError) -> int:
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    why = (f"port {port} is in use (choose another with --port, or --port 0 for a free one)"
           if error.errno == errno.EADDRINUSE else error.strerror or str(error))
    sys.stderr.write(f"ail-tui: cannot serve on {address}: {why}\n")
    return EXIT_FAILED
