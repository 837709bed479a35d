"""``python -m ail_tui.orchestration.serve_order --serve-fd N``: the process of a run a
dashboard started (its :class:`RunOrder` comes on stdin), served like a detached run."""

from __future__ import annotations

import sys

from ail_tui.orchestration.launch import SERVE_FLAG, serve
from ail_tui.orchestration.run_order import decode_order
from ail_tui.process_exit import exit_now, must_exit_now


def main() -> int:
    """Read the order, run it behind a control channel; the run's exit code."""
    ready_fd = int(sys.argv[sys.argv.index(SERVE_FLAG) + 1])
    try:
        order = decode_order(sys.stdin.buffer.read())
    except Exception as error:  # a broken order: say why where the launcher reads it
        sys.stderr.write(f"ail-tui: cannot read the run's order: {error}\n")
        return 1
    return serve(order.pipeline, order.options(), ready_fd, owner=order.owner)


if __name__ == "__main__":
    code = main()
    if must_exit_now():
        exit_now(code)
    sys.exit(code)
