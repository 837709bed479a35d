"""A run handed to a process of its own: everything :class:`RunOptions` says that can
travel, with the pipeline as it was checked (decisions A6: a dashboard's run outlives it
when the person detaches)."""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ail_tui.engine.run_types import RunOptions
from ail_tui.orchestration.temporal_target import TemporalTarget
from ail_tui.pipeline.loader import Pipeline
from ail_tui.runners.registry import RunnerFactory

if TYPE_CHECKING:
    from ail_tui.engine.prior_run import PriorRun
    from ail_tui.runners.stub import StubScript


@dataclass(frozen=True)
class RunOrder:
    """What a run process runs, and who owns it until it is released."""

    pipeline: Pipeline
    prompt: str | None
    runner: str | None
    model: str | None
    stub_response: str
    stub_script: StubScript | None
    claude_executable: str
    log_dir: Path | None
    cwd: str
    disabled: frozenset[str] = frozenset()
    prior: PriorRun | None = None
    orchestration: TemporalTarget | None = None
    owner: int | None = field(default_factory=os.getpid)
    """The process whose end cancels the run unless it released it first (None: no one)."""

    @classmethod
    def of(cls, pipeline: Pipeline, options: RunOptions) -> RunOrder:
        """The order for running ``pipeline`` with ``options``, owned by this process."""
        runners = options.runners
        return cls(pipeline, options.prompt, options.runner, options.model,
                   runners.stub_response, runners.stub_script, runners.claude_executable,
                   options.log_dir, options.cwd, options.disabled, options.prior,
                   options.orchestration)

    def options(self) -> RunOptions:
        """The run's options in the run process (gates and permissions wait for a person)."""
        return RunOptions(
            prompt=self.prompt, runner=self.runner, model=self.model, interactive=True,
            runners=RunnerFactory(self.stub_response, self.stub_script,
                                  self.claude_executable),
            log_dir=self.log_dir, cwd=self.cwd, disabled=self.disabled, prior=self.prior,
            orchestration=self.orchestration)

    def encode(self) -> bytes:
        """The order as bytes for the run process's stdin (from this user to itself)."""
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)


def decode_order(data: bytes) -> RunOrder:
    """The order :meth:`RunOrder.encode` made (only ever read from this user's own pipe)."""
    order = pickle.loads(data)  # our own process wrote it to our own pipe
    if not isinstance(order, RunOrder):
        raise TypeError("not a run order")
    return order
