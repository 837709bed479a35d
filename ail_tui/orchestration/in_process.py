"""A control channel for a run of this process (a headless run in the foreground), so
``ps`` lists it and ``attach``, ``cancel`` and ``answer`` reach it like a detached one."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

from ail_tui.engine.run_handle import ServedRun
from ail_tui.orchestration.control_server import ControlServer
from ail_tui.orchestration.live_runs import (
    new_note,
    remove_note,
    runtime_dir,
    socket_path,
    write_note,
)


def serve_in_process(run: ServedRun, pipeline_source: str, cwd: str,
                     temporal: dict[str, str] | None = None) -> Callable[[], None]:
    """Serve ``run`` (not started yet) to viewers; returns what takes the channel down.

    Without a private runtime folder the run goes on unserved, and says so on stderr.
    """
    try:
        runtime_dir(create=True)
        server = ControlServer(run, socket_path(run.run_id), log_path=run.log_path,
                               pipeline_source=pipeline_source).start()
    except OSError as error:
        sys.stderr.write(f"ail-tui: run {run.run_id} cannot be attached to: {error}\n")
        return lambda: None
    try:
        write_note(new_note(run.run_id, pipeline_source, run.log_path, detached=False,
                            cwd=cwd, temporal=temporal))
    except OSError:
        server.close()
        return lambda: None

    def stop() -> None:
        with contextlib.suppress(OSError):
            server.close()
        remove_note(run.run_id)

    return stop
