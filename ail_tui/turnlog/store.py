"""The runs of a project: listing them newest first and finding one by id or path."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ail_tui.turnlog.paths import runs_dir
from ail_tui.turnlog.reader import read_run


@dataclass(frozen=True)
class RunSummary:
    """One run as a history list shows it."""

    run_id: str
    path: Path
    pipeline_source: str | None
    status: str
    started_at: float | None
    duration: float | None
    total_cost: float
    step_counts: Counter[str]


def list_runs(cwd: str | os.PathLike[str] | None = None) -> list[RunSummary]:
    """Every readable run of the project at ``cwd``, newest first."""
    directory = runs_dir(cwd)
    if not directory.is_dir():
        return []
    summaries: list[RunSummary] = []
    for path in directory.glob("*.jsonl"):
        try:
            run = read_run(path)
        except OSError:
            continue
        summaries.append(RunSummary(run.run_id, path, run.pipeline_source, run.status,
                                    run.started_at, run.duration, run.total_cost,
                                    run.counts()))
    summaries.sort(key=lambda s: (s.started_at or 0.0, s.run_id), reverse=True)
    return summaries


def find_run(ref: str | None, cwd: str | os.PathLike[str] | None = None) -> Path | None:
    """A run's log from a path, a run id or a unique id prefix; None selects the newest."""
    if ref is not None:
        candidate = Path(ref)
        if candidate.suffix == ".jsonl" or os.sep in ref:
            return candidate if candidate.is_file() else None
    directory = runs_dir(cwd)
    if not directory.is_dir():
        return None
    if ref is None:
        runs = list_runs(cwd)
        return runs[0].path if runs else None
    exact = directory / f"{ref}.jsonl"
    if exact.is_file():
        return exact
    matches = sorted(directory.glob(f"{ref}*.jsonl"))
    return matches[0] if len(matches) == 1 else None
