"""Comparing two runs step by step: status, time, cost, tokens and their responses.

Two turn logs (ours or the Rust ``ail``'s) are read and their steps aligned by step id.
The older run is ``A`` and the newer ``B`` (by start time; the order given on a tie);
deltas are ``B - A``. Steps come in the order of B; a step only A has (``removed``) is
placed after the step it followed in A. A step's response is its result (a shell step's
stdout and stderr); a diff of two responses is a unified diff, bounded in size.

Shown by the dashboard's compare screen (history, ``d``) and ``ail-tui compare``.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ail_tui.turnlog.entry import entry_from_record
from ail_tui.turnlog.markdown import GLYPHS
from ail_tui.turnlog.reader import RunRecord, StepRecord, read_run
from ail_tui.turnlog.store import RUN_GLYPHS, local_time
from ail_tui.turnlog.timestamps import format_timestamp

MAX_DIFF_LINES = 500
"""A diff longer than this is cut, with a line saying how much was left out."""
MAX_DIFF_INPUT_CHARS = 200_000
"""Each response is diffed up to this many characters (difflib is slow on huge texts)."""
STEP_GLYPHS = {**GLYPHS, "reused": "↺", "reconciled": "⇌"}
ABSENT = "—"
"""How a missing value reads: a step one run lacks, a time the log does not have."""


@dataclass(frozen=True)
class StepSide:
    """One run's record of a step, as compared."""

    status: str
    """``done``, ``failed``, … and ``reused`` / ``reconciled`` for results not run here."""
    elapsed: float | None
    cost: float | None
    input_tokens: int
    output_tokens: int
    response: str
    error: str | None

    @classmethod
    def of(cls, step: StepRecord) -> StepSide:
        """The side of a step read from a turn log."""
        status = step.status
        if status == "done" and step.reused_from is not None:
            status = "reused"
        elif status == "done" and step.reconciled:
            status = "reconciled"
        start = step.started_at or step.launched_at
        elapsed = (max(step.completed_at - start, 0.0)
                   if start is not None and step.completed_at is not None else None)
        entry = step.entry
        response = entry_from_record(entry, times=False).result if entry else ""
        return cls(status, elapsed, step.cost_usd, step.input_tokens, step.output_tokens,
                   response, step.error)

    @property
    def label(self) -> str:
        """Glyph and word, e.g. ``✓ done``."""
        return f"{STEP_GLYPHS.get(self.status, '?')} {self.status}"


@dataclass(frozen=True)
class StepComparison:
    """A step id in either run: its side in A and in B (None: the run has no such step)."""

    step_id: str
    a: StepSide | None
    b: StepSide | None

    @property
    def presence(self) -> str:
        """``added`` (only B has it), ``removed`` (only A) or ``both``."""
        if self.a is None:
            return "added"
        return "removed" if self.b is None else "both"

    @property
    def response_differs(self) -> bool:
        """Whether the two responses differ (a missing step has an empty one)."""
        return (self.a.response if self.a else "") != (self.b.response if self.b else "")

    @property
    def response_word(self) -> str:
        """``same`` or ``differs``; ``added`` / ``removed`` when one run lacks the step."""
        if self.presence != "both":
            return self.presence
        return "differs" if self.response_differs else "same"

    @property
    def changed(self) -> bool:
        """Whether anything but time and cost changed: presence, status or response."""
        return (self.presence != "both" or self.response_differs
                or (self.a is not None and self.b is not None
                    and self.a.status != self.b.status))

    @property
    def status_change(self) -> str:
        """``A → B`` of the statuses, e.g. ``✓ done → ✗ failed``; ``—`` for a missing side."""
        return f"{self.a.label if self.a else ABSENT} → {self.b.label if self.b else ABSENT}"

    @property
    def elapsed_delta(self) -> float | None:
        """B's elapsed time minus A's (None unless both are known)."""
        return delta(self.a.elapsed if self.a else None, self.b.elapsed if self.b else None)

    @property
    def cost_delta(self) -> float | None:
        """B's cost minus A's (None unless both have a cost)."""
        return delta(self.a.cost if self.a else None, self.b.cost if self.b else None)

    def diff(self, names: tuple[str, str] = ("A", "B"),
             limit: int = MAX_DIFF_LINES) -> list[str]:
        """The unified diff of the responses (``---``/``+++`` named ``names``), at most
        ``limit`` lines and a last one saying how many were left out; [] when the same."""
        if not self.response_differs:
            return []
        old, new = (side.response if side else "" for side in (self.a, self.b))
        cut = any(len(text) > MAX_DIFF_INPUT_CHARS for text in (old, new))
        lines = list(difflib.unified_diff(
            old[:MAX_DIFF_INPUT_CHARS].splitlines(), new[:MAX_DIFF_INPUT_CHARS].splitlines(),
            fromfile=f"{names[0]} {self.step_id}", tofile=f"{names[1]} {self.step_id}",
            lineterm=""))
        if len(lines) > limit:
            lines = [*lines[:limit], f"… {len(lines) - limit} more diff lines not shown"]
        if cut:
            lines.append(f"… responses compared up to {MAX_DIFF_INPUT_CHARS:,} characters")
        return lines


@dataclass(frozen=True)
class RunSide:
    """One of the two runs, as the comparison's header shows it."""

    run_id: str
    path: Path
    status: str
    started_at: float | None
    duration: float | None
    total_cost: float

    @classmethod
    def of(cls, run: RunRecord) -> RunSide:
        """The side of a run read from its turn log."""
        return cls(run.run_id, run.path, run.status, run.started_at, run.duration,
                   run.total_cost)

    @property
    def short_id(self) -> str:
        """The first 8 characters of the run id."""
        return self.run_id[:8]

    @property
    def status_text(self) -> str:
        """Glyph and word, e.g. ``✓ completed``."""
        return f"{RUN_GLYPHS.get(self.status, '?')} {self.status}"


@dataclass(frozen=True)
class RunComparison:
    """Two runs, older (``a``) and newer (``b``), and their steps aligned by id."""

    a: RunSide
    b: RunSide
    steps: list[StepComparison]

    @property
    def names(self) -> tuple[str, str]:
        """The short ids of A and B, for diff headers."""
        return self.a.short_id, self.b.short_id

    @property
    def duration_delta(self) -> float | None:
        """B's wall time minus A's."""
        return delta(self.a.duration, self.b.duration)

    @property
    def cost_delta(self) -> float:
        """B's total cost minus A's."""
        return self.b.total_cost - self.a.total_cost

    def diff(self, step: StepComparison, limit: int = MAX_DIFF_LINES) -> list[str]:
        """A step's response diff, its headers naming the runs."""
        return step.diff(self.names, limit)


def delta(old: float | None, new: float | None) -> float | None:
    """``new - old``, or None when either is unknown."""
    return None if old is None or new is None else new - old


def _aligned(newer: list[str], older: list[str]) -> list[str]:
    """The ids of ``newer`` in order, each id only ``older`` has placed after the id it
    followed there (at the start when it came first)."""
    order = list(newer)
    present = set(order)
    previous: str | None = None
    for step_id in older:
        if step_id not in present:
            order.insert(order.index(previous) + 1 if previous is not None else 0, step_id)
            present.add(step_id)
        previous = step_id
    return order


def compare_runs(first: RunRecord, second: RunRecord) -> RunComparison:
    """Compare two runs already read (in either order: the older becomes A)."""
    older, newer = sorted((first, second), key=lambda run: run.started_at or 0.0)
    sides = [{step.step_id: StepSide.of(step) for step in run.steps} for run in (older, newer)]
    order = _aligned([s.step_id for s in newer.steps], [s.step_id for s in older.steps])
    steps = [StepComparison(step_id, sides[0].get(step_id), sides[1].get(step_id))
             for step_id in order]
    return RunComparison(RunSide.of(older), RunSide.of(newer), steps)


def compare_logs(first: str | os.PathLike[str],
                 second: str | os.PathLike[str]) -> RunComparison:
    """Read two turn logs and compare them; ``OSError`` when one cannot be read."""
    return compare_runs(read_run(first), read_run(second))


# -- how values read (the screen and ``ail-tui compare`` alike) --------------------------


def seconds_text(value: float | None) -> str:
    """``1.2s``, or ``—`` when unknown."""
    return ABSENT if value is None else f"{value:.1f}s"


def seconds_delta_text(value: float | None) -> str:
    """``+0.5s`` / ``-1.0s``, or ``—``."""
    return ABSENT if value is None else f"{value:+.1f}s"


def cost_text(value: float | None) -> str:
    """``$0.0042``, or ``—`` when the step has no cost (a context step)."""
    return ABSENT if value is None else f"${value:.4f}"


def cost_delta_text(value: float | None) -> str:
    """``+$0.0010`` / ``-$0.0010``, or ``—``."""
    if value is None:
        return ABSENT
    return f"{'-' if value < 0 else '+'}${abs(value):.4f}"


def tokens_text(side: StepSide | None) -> str:
    """``120/30`` (input/output tokens), or ``—`` for a missing step."""
    return ABSENT if side is None else f"{side.input_tokens}/{side.output_tokens}"


def run_line(label: str, run: RunSide) -> str:
    """One run: ``A 1a2b3c4d  2026-04-14 10:00:00  ✓ completed  3.5s  $0.0040``."""
    return (f"{label} {run.short_id}  {local_time(run.started_at)}  {run.status_text}  "
            f"{seconds_text(run.duration)}  {cost_text(run.total_cost)}")


def delta_line(comparison: RunComparison) -> str:
    """``Δ B−A  time +1.5s  cost +$0.0010  · 2 of 5 steps changed``."""
    c = comparison
    changed = sum(step.changed for step in c.steps)
    return (f"Δ B−A  time {seconds_delta_text(c.duration_delta)}  "
            f"cost {cost_delta_text(c.cost_delta)}  · {changed} of {len(c.steps)} steps "
            "changed")


def format_text(comparison: RunComparison) -> str:
    """The comparison for ``ail-tui compare``: both runs, a table of steps, the diffs."""
    c = comparison
    header = ("step", "A → B", "time A", "time B", "Δ time", "cost A", "cost B", "Δ cost",
              "tokens A", "tokens B", "response")
    rows = [header] + [(
        s.step_id, s.status_change,
        seconds_text(s.a.elapsed if s.a else None), seconds_text(s.b.elapsed if s.b else None),
        seconds_delta_text(s.elapsed_delta),
        cost_text(s.a.cost if s.a else None), cost_text(s.b.cost if s.b else None),
        cost_delta_text(s.cost_delta), tokens_text(s.a), tokens_text(s.b), s.response_word,
    ) for s in c.steps]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [run_line("A", c.a), run_line("B", c.b), delta_line(c), ""]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip() for row in rows]
    for step in c.steps:
        diff = c.diff(step)
        if diff:
            lines += ["", *diff]
    return "\n".join(lines) + "\n"


def _side_json(side: StepSide | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {"status": side.status, "elapsed_s": side.elapsed, "cost_usd": side.cost,
            "input_tokens": side.input_tokens, "output_tokens": side.output_tokens,
            "error": side.error}


def _run_json(run: RunSide) -> dict[str, Any]:
    return {"run_id": run.run_id, "path": str(run.path), "status": run.status,
            "started_at": None if run.started_at is None else format_timestamp(run.started_at),
            "duration_s": run.duration, "total_cost_usd": run.total_cost}


def format_json(comparison: RunComparison) -> dict[str, Any]:
    """The comparison for ``ail-tui compare --format json``."""
    c = comparison
    return {
        "a": _run_json(c.a), "b": _run_json(c.b),
        "duration_delta_s": c.duration_delta, "cost_delta_usd": c.cost_delta,
        "steps": [{
            "step_id": s.step_id, "presence": s.presence, "a": _side_json(s.a),
            "b": _side_json(s.b), "elapsed_delta_s": s.elapsed_delta,
            "cost_delta_usd": s.cost_delta, "response": s.response_word,
            "diff": c.diff(s),
        } for s in c.steps],
    }
