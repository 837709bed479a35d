"""``ail-tui run --headless``: a run's events as NDJSON on stdout."""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from typing import IO

from ail_tui.engine import events as ev
from ail_tui.engine.run_handle import RunHandle
from ail_tui.engine.run_types import RunOptions, RunResult, RunStatus
from ail_tui.pipeline.loader import Pipeline
from ail_tui.processes.guard import GUARD

EXIT_NOT_STARTED = 2
"""The run could not be started (its backend is missing or out of reach)."""
EXIT_FOR_STATUS = {RunStatus.COMPLETED: 0, RunStatus.BREAK: 0, RunStatus.ABORTED: 1,
                   RunStatus.FAILED: 1, RunStatus.CANCELLED: 130}


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
            except (OSError, ValueError):
                pass  # the reader or the terminal went away; the run goes on

    def close(self, within: float | None = None) -> None:
        """Write everything queued (waiting at most ``within`` seconds), then stop."""
        self._queue.put(None)
        self._thread.join(within)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Ctrl-C, ``kill``/``timeout``/``docker stop``, and a closed terminal (decisions A6)."""
FORCED_EXIT_SECONDS = 1.0
"""After a second stop signal: how long the run may take to record its end."""


def run_headless(pipeline: Pipeline, options: RunOptions, stream: IO[str] | None = None) -> int:
    """Run to the end, events on ``stream`` (default: stdout), served to viewers (``ps``,
    ``attach``); a stop signal cancels cleanly, a second forces the exit. Returns the
    exit code (0, 1 or 130).
    """
    from ail_tui.orchestration.backends import RunNotStarted, open_or_say
    from ail_tui.orchestration.in_process import serve_in_process
    from ail_tui.orchestration.temporal_target import target_note

    opened = open_or_say(pipeline, options)
    if opened is None:
        return EXIT_NOT_STARTED
    run = opened.run
    sink = NdjsonSink(stream or sys.stdout)
    run.subscribe(sink)
    unserve = serve_in_process(run, str(pipeline.source), options.cwd,
                               target_note(options.orchestration))
    try:
        opened.start()
        result = run_to_end(run, lambda: sink.close(FORCED_EXIT_SECONDS))
    except RunNotStarted as error:
        sys.stderr.write(f"ail-tui: {error}\n")
        return EXIT_NOT_STARTED
    finally:
        unserve()
        sink.close()
        opened.close()
    return exit_code(result)


def run_to_end(run: RunHandle, last_words: Callable[[], None] = lambda: None,
               signals: tuple[signal.Signals, ...] = STOP_SIGNALS) -> RunResult | None:
    """Wait for a started run's end; the first of ``signals`` cancels it, a second kills
    its processes, calls ``last_words`` and exits the process with 130 at once."""
    stopping = threading.Event()

    def on_stop(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if not stopping.is_set():
            stopping.set()
            run.cancel(f"interrupted ({name})", by="user")
            return
        # A second signal: the run's processes die now, whatever they are doing.
        GUARD.kill_all()
        run.wait(FORCED_EXIT_SECONDS)
        last_words()
        os._exit(EXIT_FOR_STATUS[RunStatus.CANCELLED])

    previous = {sig: signal.signal(sig, on_stop) for sig in signals}
    result: RunResult | None = None
    try:
        while result is None:  # short waits, so the signal handlers get their turn
            result = run.wait(0.05)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return result


def exit_code(result: RunResult | None) -> int:
    """The exit code of a run that ended so (0, 1 or 130; 1 when it did not end)."""
    if result is None:
        return 1
    return EXIT_FOR_STATUS.get(result.status, 1)
