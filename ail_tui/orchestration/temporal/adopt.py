"""``python -m ail_tui.orchestration.temporal.adopt RUN_ID --serve-fd N``: follow again a
Temporal run whose process here died (decisions O3: the run went on on its workers).

It reads the run's note, follows the workflow from its first event, writes the records
the log here lacks, and serves the run behind a control channel like any run process,
so ``attach``, ``cancel`` and ``answer`` reach it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace
from pathlib import Path

from ail_tui.orchestration.backends import OpenRun
from ail_tui.orchestration.detached import run_served
from ail_tui.orchestration.launch import SERVE_FLAG
from ail_tui.orchestration.live_runs import unfollowed_runs, write_note
from ail_tui.orchestration.temporal.client import TemporalRun
from ail_tui.orchestration.temporal_target import TemporalTarget
from ail_tui.process_exit import exit_now

EXIT_NOT_STARTED = 2


def main() -> int:
    """Follow the run named on the command line; the run's exit code."""
    run_id = sys.argv[1]
    ready_fd = int(sys.argv[sys.argv.index(SERVE_FLAG) + 1])
    note = next((n for n in unfollowed_runs(os.getcwd()) if n.run_id == run_id), None)
    if note is None or note.temporal is None:
        sys.stderr.write(f"ail-tui: run {run_id} is not a Temporal run left unfollowed\n")
        return EXIT_NOT_STARTED
    remote = TemporalRun(TemporalTarget(**note.temporal), run_id, Path(note.runs_dir))
    note = replace(note, pid=os.getpid())
    write_note(note)

    def announce() -> None:
        with contextlib.suppress(OSError):
            os.write(ready_fd, f"run {run_id}\n".encode())
            os.close(ready_fd)

    return run_served(OpenRun(remote, remote.follow, remote.close),
                      note.pipeline_source or "", note, None, started=announce)


if __name__ == "__main__":
    exit_now(main())
