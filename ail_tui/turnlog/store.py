"""The runs of a project: listing them newest first, finding one by id or path, how a
run's status reads in a list (``ail-tui logs``, the dashboard's history), deleting one."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ail_tui.turnlog.ail_db import delete_rows, session_ids
from ail_tui.turnlog.paths import project_db, runs_dir
from ail_tui.turnlog.reader import RunRecord, read_run

RUN_GLYPHS = {"completed": "✓", "break": "✓", "running": "▶", "failed": "✗", "aborted": "✗",
              "cancelled": "⊘", "interrupted": "?"}
"""A glyph for each run status, beside its word (never colour alone): ``interrupted`` is
a run that stopped without recording its end (it crashed or was killed)."""
RESUMABLE_MARK = "resumable"
"""Added to the status of a run ``ail-tui resume RUN_ID`` can continue (D1)."""


def local_time(moment: float | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in local time, ``?`` when unknown."""
    if moment is None:
        return "?"
    return datetime.fromtimestamp(moment).strftime("%Y-%m-%d %H:%M:%S")


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
    torn_tail: bool = False
    resumable: bool = False
    resumes: tuple[float | None, ...] = ()

    @classmethod
    def of(cls, run: RunRecord) -> RunSummary:
        """The summary of a run already read."""
        return cls(run.run_id, run.path, run.pipeline_source, run.status, run.started_at,
                   run.duration, run.total_cost, run.counts(), run.torn_tail,
                   run.resumable, tuple(run.resumes))

    @property
    def status_text(self) -> str:
        """Glyph and word, e.g. ``✓ completed`` or ``? interrupted · resumable``."""
        text = f"{RUN_GLYPHS.get(self.status, '?')} {self.status}"
        return f"{text} · {RESUMABLE_MARK}" if self.resumable else text

    @property
    def step_total(self) -> int:
        """How many step ids the run recorded."""
        return sum(self.step_counts.values())


def _logs(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return [p for p in directory.iterdir() if p.suffix == ".jsonl" and p.is_file()]


def list_runs(cwd: str | os.PathLike[str] | None = None) -> list[RunSummary]:
    """Every readable run of the project at ``cwd``, newest first (by start, else mtime)."""
    summaries: list[RunSummary] = []
    for path in _logs(runs_dir(cwd)):
        try:
            summaries.append(RunSummary.of(read_run(path)))
        except OSError:
            continue  # deleted or unreadable since listing
    summaries.sort(key=lambda s: (s.started_at or 0.0, s.run_id), reverse=True)
    return summaries


def find_run(ref: str | None, cwd: str | os.PathLike[str] | None = None) -> Path | None:
    """A run's log from a path to a ``.jsonl`` file, a run id, or a unique run-id prefix.

    ``None`` selects the newest run. An ambiguous prefix, an empty ref or no match gives
    None. A ``NAME.jsonl`` that is not a file here is looked up as run id ``NAME``.
    """
    if ref is not None:
        candidate = Path(ref).expanduser()
        if candidate.suffix == ".jsonl" or os.sep in ref or "/" in ref:
            if candidate.is_file():
                return candidate
            if os.sep in ref or "/" in ref:
                return None
            ref = candidate.stem
        if not ref:
            return None
    if ref is None:
        runs = list_runs(cwd)
        return runs[0].path if runs else None
    logs = _logs(runs_dir(cwd))
    exact = [p for p in logs if p.stem == ref]
    if exact:
        return exact[0]
    matches = [p for p in logs if p.stem.startswith(ref)]
    return matches[0] if len(matches) == 1 else None


def resolve_run_id(ref: str, cwd: str | os.PathLike[str] | None = None) -> str | None:
    """The one run, by id or unique id prefix, among the project's turn logs and the
    sessions of its ``ail.db``; None when no run or several match."""
    known = {p.stem for p in _logs(runs_dir(cwd))} | session_ids(project_db(cwd))
    if ref in known:
        return ref
    matches = [run_id for run_id in known if ref and run_id.startswith(ref)]
    return matches[0] if len(matches) == 1 else None


@dataclass(frozen=True)
class Deleted:
    """What :func:`delete_run` removed."""

    log: Path | None
    """The turn log removed (None: the run had none)."""
    db: Path
    rows: int
    """Rows removed from ``db``."""


def delete_run(run_id: str, cwd: str | os.PathLike[str] | None = None) -> Deleted:
    """Remove a run's turn log and its rows in ``ail.db``. Raises ``OSError`` or
    ``sqlite3.Error`` (nothing of the log is removed when the rows could not be)."""
    db = project_db(cwd)
    rows = delete_rows(db, run_id)
    log = runs_dir(cwd) / f"{run_id}.jsonl"
    try:
        log.unlink()
    except FileNotFoundError:
        return Deleted(None, db, rows)
    return Deleted(log, db, rows)
