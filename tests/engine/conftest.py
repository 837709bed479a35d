"""Fixtures of the engine tests: ``run_pipeline`` (a pipeline text run with the stub runner)
and ``project`` (a project directory for real ``ail-tui`` processes to be killed in)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import Run, make_executor, read_records
from kill_helpers import Project

from ail_tui.engine import events as ev


@pytest.fixture
def run_pipeline(tmp_path: Path) -> Callable[..., Run]:
    def go(text: str, **kwargs: Any) -> Run:
        events: list[ev.Event] = []
        executor = make_executor(tmp_path, text, sink=events.append, **kwargs)
        result = executor.run()
        return Run(result, events, read_records(result.log_path))

    return go


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    made = Project(tmp_path)
    yield made
    made.cleanup()
