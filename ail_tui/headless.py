"""``ail-tui run --headless``: the executor's events as NDJSON on stdout."""

from __future__ import annotations

import json
import queue
import signal
import sys
import threading
from typing import IO

from ail_tui.engine import events as ev
from ail_tui.engine.executor import Executor, RunOptions, RunResult
from ail_tui.pipeline.loader import Pipeline

EXIT_FOR_STATUS = {"completed": 0, "break": 0, "aborted": 1, "failed": 1, "cancelled": 130}


class NdjsonSink:
    """Writes events as sorted-key JSON lines from its own thread (never blocks a step)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._queue: queue.SimpleQueue[ev.Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._drain, name="ndjson", daemon=True)
        self._thread.start()

    def __call__(self, event: ev.Event) -> None:
        self._queue.put(event)

    def _drain(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            line = json.dumps(event.to_json(), sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False)
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                pass

    def close(self) -> None:
        """Write everything queued, then stop."""
        self._queue.put(None)
        self._thread.join()


def run_headless(pipeline: Pipeline, options: RunOptions, stream: IO[str] = sys.stdout) -> int:
    """Run to the end; Ctrl-C cancels cleanly. Returns the exit code (0, 1 or 130)."""
    sink = NdjsonSink(stream)
    executor = Executor(pipeline, options, sink)
    interrupted = threading.Event()

    def on_sigint(signum: int, frame: object) -> None:
        interrupted.set()
        executor.cancel("interrupted (Ctrl-C)", by="user")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        thread = executor.start()
        while thread.is_alive():
            thread.join(0.2)
    finally:
        signal.signal(signal.SIGINT, previous)
        sink.close()
    result: RunResult | None = executor.result
    if result is None:
        return 1
    return EXIT_FOR_STATUS.get(result.status, 1)
