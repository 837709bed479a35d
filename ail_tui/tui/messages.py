"""Results from the dashboard's worker threads, posted to the app as typed messages."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from ail_tui.engine.continuing import Continuation
from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.engine.run_handle import RunHandle
from ail_tui.pipeline.loader import LoadResult, Pipeline
from ail_tui.runners.availability import RunnerCheck


class PipelineChecked(Message):
    """A validation of the pipeline file finished (after a save, or at start).

    ``needs_prompt``: whether its files read ``{{ step.invocation.prompt }}``.
    """

    def __init__(self, result: LoadResult, needs_prompt: bool = False) -> None:
        super().__init__()
        self.result = result
        self.needs_prompt = needs_prompt


class RunnersChecked(Message):
    """Whether the runners ``pipeline`` needs can run here."""

    def __init__(self, pipeline: Pipeline, checks: list[RunnerCheck]) -> None:
        super().__init__()
        self.pipeline = pipeline
        self.checks = checks


class RunRead(Message):
    """A turn log chosen in the history was read (``run`` None: it could not be)."""

    def __init__(self, path: Path, run: RecordedRun | None, error: str = "") -> None:
        super().__init__()
        self.path = path
        self.run = run
        self.error = error


class RunContinued(Message):
    """An earlier run's log was read and the run that goes on from it is ready to start
    (``continuation`` None: it cannot go on, ``error`` says why).

    ``what``: what was asked, for the user (``resume``, ``re-run from STEP``);
    ``generation``: the pipeline generation it runs (0: not the pipeline on screen).
    """

    def __init__(self, what: str, continuation: Continuation | None, error: str = "",
                 generation: int = 0) -> None:
        super().__init__()
        self.what = what
        self.continuation = continuation
        self.error = error
        self.generation = generation


class RunLaunched(Message):
    """A run process of the dashboard's started its run (``run`` None: it did not,
    ``error`` says why); ``generation`` as for :class:`RunContinued`."""

    def __init__(self, pipeline: Pipeline, run: RunHandle | None, generation: int,
                 error: str = "") -> None:
        super().__init__()
        self.pipeline = pipeline
        self.run = run
        self.generation = generation
        self.error = error


class RunAttached(Message):
    """A live run of another process was reached from the history (``run`` None: it
    could not be, ``error`` says why)."""

    def __init__(self, run: RunHandle | None, error: str = "") -> None:
        super().__init__()
        self.run = run
        self.error = error
