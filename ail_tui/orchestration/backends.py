"""Where a run executes (decisions O1): in this process, or on Temporal's workers.

:func:`open_run` gives the run's handle, not started yet, whichever backend
``options.orchestration`` names; every front end (headless, a run process, the
dashboard) starts and follows it the same way. Temporal is imported only when chosen.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from ail_tui.engine.run_handle import ServedRun
from ail_tui.engine.run_types import RunOptions
from ail_tui.pipeline.loader import Pipeline

EXTRA = "the temporal backend needs its extra: pip install 'ail-tui[temporal]'"


class RunNotStarted(RuntimeError):
    """The backend could not take the run (said as it is; nothing ran)."""


@dataclass
class OpenRun:
    """A run's handle and what starts it (raises :class:`RunNotStarted`)."""

    run: ServedRun
    start: Callable[[], object]
    close: Callable[[], None] = field(default=lambda: None)
    """What ends this process's part once the run is over or left (the run goes on)."""


def open_run(pipeline: Pipeline, options: RunOptions) -> OpenRun:
    """``pipeline``'s run with ``options`` on the backend they name; raises
    :class:`RunNotStarted` when the backend cannot be loaded."""
    target = options.orchestration
    if target is None:
        from ail_tui.engine.local_run import LocalRun

        local = LocalRun(pipeline, options)
        return OpenRun(local, local.start)
    try:
        from ail_tui.orchestration.temporal.client import TemporalRun
        from ail_tui.orchestration.temporal.messages import RunStart
    except ImportError:
        raise RunNotStarted(EXTRA) from None
    from ail_tui.turnlog.last_pipeline import remember_pipeline
    from ail_tui.turnlog.paths import runs_dir

    script = options.runners.stub_script
    start = RunStart(run_id=options.settle_run_id(), pipeline_source=str(pipeline.source),
                     pipeline_text=pipeline.source.read_text(encoding="utf-8"),
                     cwd=options.cwd, prompt=options.prompt, runner=options.runner,
                     model=options.model, stub_response=options.runners.stub_response,
                     stub_script=script.model_dump_json() if script is not None else None,
                     interactive=options.interactive)
    logs = (options.log_dir or runs_dir(options.cwd)) if options.write_log else None
    remote = TemporalRun(target, start.run_id, logs)

    def begin() -> None:
        remote.start(start)
        if logs is not None and logs == runs_dir(options.cwd):  # as a direct run does
            remember_pipeline(logs.parent, pipeline.source)

    return OpenRun(remote, begin, remote.close)


def open_or_say(pipeline: Pipeline, options: RunOptions) -> OpenRun | None:
    """:func:`open_run`, or None once why it could not is said on stderr."""
    try:
        return open_run(pipeline, options)
    except RunNotStarted as error:
        sys.stderr.write(f"ail-tui: {error}\n")
        return None
