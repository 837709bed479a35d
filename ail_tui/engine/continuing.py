"""Going on from an earlier run: ``resume`` (the same run, in its own log, D1) and
``rerun`` (a new run that reuses the earlier results it may, D4)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from ail_tui.engine.prior_run import UnknownStep, plan_reuse
from ail_tui.engine.run_types import RunOptions
from ail_tui.pipeline.loader import Pipeline
from ail_tui.turnlog.liveness import is_being_written
from ail_tui.turnlog.reader import RunRecord, read_run

FINISHED = ("completed", "break")
"""Run statuses that leave nothing to resume."""


class CannotContinue(Exception):
    """Why an earlier run cannot be resumed or re-run (said to the user as it is)."""


@dataclass
class Continuation:
    """What to run to go on from an earlier run."""

    pipeline: Pipeline
    options: RunOptions
    reusable: int
    """How many of the earlier run's step results the run may take."""


SETTLE_SECONDS = 1.0
"""How long a log may still look written after its writer died: a step process forked
at that moment holds the writer's lock until it starts its program."""


def _settled(record: RunRecord) -> RunRecord:
    """``record`` read again once no one holds its log, if that comes soon."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while is_being_written(record.path):
        if time.monotonic() >= deadline:
            return record
        time.sleep(0.05)
    try:
        return read_run(record.path, times=False)
    except OSError:
        return record


def load_pipeline_of(record: RunRecord) -> Pipeline:
    """The pipeline the earlier run ran, read again from its file (D2)."""
    from ail_tui.pipeline.validation import check_file

    source = record.pipeline_source
    if not source:
        raise CannotContinue(f"run {record.run_id} does not say which pipeline it ran")
    loaded = check_file(source)
    if loaded.pipeline is None or not loaded.valid:
        first = loaded.errors[0].display() if loaded.errors else "it cannot be read"
        raise CannotContinue(f"the pipeline of run {record.run_id} ({source}) is not "
                             f"valid now: {first}")
    return loaded.pipeline


def continue_run(record: RunRecord, options: RunOptions, *, resume: bool,
                 from_step: str | None = None,
                 pipeline: Pipeline | None = None) -> Continuation:
    """The pipeline and options that resume ``record`` (``resume``) or re-run it.

    ``pipeline``: the pipeline to run (default: read again from the run's source).
    Raises :class:`CannotContinue`; resuming a finished run is the caller's to refuse
    (see :data:`FINISHED`).
    """
    if resume and record.status == "running":
        record = _settled(record)
    if resume and record.status == "running":
        raise CannotContinue(f"run {record.run_id} is still running; attach to it or "
                             "cancel it first")
    pipeline = pipeline if pipeline is not None else load_pipeline_of(record)
    try:
        prior = plan_reuse(record, pipeline, None, cwd=options.cwd, resume=resume,
                           prompt=options.prompt, from_step=from_step)
    except UnknownStep as exc:
        raise CannotContinue(str(exc)) from None
    options = replace(options, prior=prior,
                      prompt=options.prompt if options.prompt is not None else prior.prompt)
    return Continuation(pipeline, options, prior.reusable_count())
