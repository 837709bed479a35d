"""Shared by the engine benchmarks: load a pipeline text and time one run of it."""

from __future__ import annotations

import time
from pathlib import Path

from ail_tui.engine.executor import Executor
from ail_tui.engine.run_types import RunOptions
from ail_tui.pipeline.validation import check_file


def timed_run(directory: Path, name: str, text: str, options: RunOptions) -> float:
    """Write ``text`` as ``directory/name``, check it, run it; wall time of the run only."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    loaded = check_file(path)
    assert loaded.pipeline is not None and loaded.valid, loaded.errors[:3]
    start = time.perf_counter()
    result = Executor(loaded.pipeline, options).run()
    elapsed = time.perf_counter() - start
    assert result.status == "completed", result
    return elapsed
