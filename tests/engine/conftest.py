"""The ``run_pipeline`` fixture: run a pipeline text with the stub runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import Run, make_executor, read_records

from ail_tui.engine import events as ev


@pytest.fixture
def run_pipeline(tmp_path: Path) -> Callable[..., Run]:
    def go(text: str, **kwargs: Any) -> Run:
        events: list[ev.Event] = []
        executor = make_executor(tmp_path, text, sink=events.append, **kwargs)
        result = executor.run()
        return Run(result, events, read_records(result.log_path))

    return go
