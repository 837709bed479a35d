"""``ail-tui serve``'s options. The server itself, :mod:`ail_tui.web_serve`, needs
textual-serve, an optional dependency (``pip install 'ail-tui[web]'``): it is imported
only when ``serve`` is chosen, so the other commands start without it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
EXIT_FAILED = 1
INSTALL_HINT = "pip install 'ail-tui[web]' (or pip install textual-serve)"
USAGE = ("ail-tui serve PIPELINE [dashboard options] [--host HOST] [--port PORT]\n"
         "       ail-tui serve --attach RUN_ID [--host HOST] [--port PORT]")


def add_command(commands: Any) -> None:
    """The ``serve`` parser (``commands``: argparse's sub-parsers). The dashboard's own
    options are not declared here: the caller passes on what this parser leaves."""
    serve = commands.add_parser(
        "serve", usage=USAGE, allow_abbrev=False,
        help="serve the dashboard on a local web page (each browser tab runs its own)",
        description="Serve the dashboard over HTTP: each browser session runs "
                    "'ail-tui PIPELINE [dashboard options]' (or 'ail-tui attach RUN_ID').",
        epilog="Dashboard options (see ail-tui PIPELINE --help) are passed on. "
               "Anyone who can open the page controls runs as you: keep to this machine "
               "unless you mean it.")
    serve.add_argument("--attach", metavar="RUN_ID",
                       help="serve 'ail-tui attach RUN_ID' instead of a dashboard on a "
                            "pipeline")
    serve.add_argument("--host", default=DEFAULT_HOST,
                       help=f"address to listen on (default: {DEFAULT_HOST}, this "
                            "machine only)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port to listen on (default: {DEFAULT_PORT}; 0: a free one)")
    serve.add_argument("--public-url", metavar="URL",
                       help="the address browsers open, when not http://HOST:PORT "
                            "(behind a proxy, or with --host 0.0.0.0)")


def serve(app_args: Sequence[str], host: str, port: int, public_url: str | None) -> int:
    """Serve ``ail-tui APP_ARGS`` until Ctrl+C; the exit code."""
    try:
        from ail_tui.web_serve import serve_dashboard
    except ImportError as error:
        sys.stderr.write(f"ail-tui: serving in a browser needs textual-serve ({error}): "
                         f"{INSTALL_HINT}\n")
        return EXIT_FAILED
    return serve_dashboard(app_args, host, port, public_url)
