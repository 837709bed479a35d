"""What a turn log says about a run: its segments, its steps and their attempts.

Built by :func:`ail_tui.turnlog.reader.read_run`, which documents the rules.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESUMABLE = frozenset({"interrupted", "failed", "aborted", "cancelled"})
"""Run statuses ``ail-tui resume`` can continue (D1): the run neither completed nor
stopped at a ``break``, and is not running."""


def kind_of(record: dict[str, Any]) -> str | None:
    """A record's kind: its ``type``, the spec's ``event`` spelling of ``step_cancelled``,
    ``entry`` for a TurnEntry (``step_id`` and no ``type``), else None."""
    kind = record.get("type")
    if kind is None and record.get("event") == "step_cancelled":
        return "step_cancelled"
    if kind is None and "step_id" in record:
        return "entry"
    return kind if isinstance(kind, str) else None


@dataclass
class Attempt:
    """One try at a step: ``running`` (only while reading), ``done``, ``retried``,
    ``failed``, ``cancelled`` or ``interrupted``."""

    number: int
    status: str
    prompt: str | None = None
    entry: dict[str, Any] | None = None
    error_type: str | None = None
    error: str | None = None
    cancelled_by: str | None = None
    reason: str | None = None
    at: float | None = None
    action: str | None = None  # the step_error's on_error_action, if any
    segment: int = 0
    """The run segment it belongs to (0: before any resume; see :class:`Segment`)."""
    first_record: int = 0
    """Index in :attr:`RunRecord.records` of the record that opened it."""
    iteration: tuple[int, ...] | None = None
    """Inside loops: the 1-based iteration of each enclosing loop, outermost first."""
    reused_from: str | None = None
    """The run a rerun copied this attempt's result from (D4)."""
    reconciled: bool = False
    """Whether its result was recovered by the step's ``reconcile`` command (D3)."""


@dataclass
class Segment:
    """A stretch of a run: from ``run_started`` (index 0) or a ``run_resumed`` to the next
    resume or the end of the log."""

    index: int
    at: float | None = None  # when it began
    pipeline_hash: str | None = None
    step_hashes: dict[str, str] = field(default_factory=dict)
    ended: str | None = None
    """How it ended: a ``run_finished`` status, ``interrupted`` when the run stopped
    without one, and for the last segment the run's status."""


@dataclass
class StepRecord:
    """Everything the log says about one step id (times are epoch seconds)."""

    step_id: str
    attempts: list[Attempt] = field(default_factory=list)
    concurrent_group: str | None = None
    launched_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    order: int = 0
    times: dict[str, str] = field(default_factory=dict)  # the log's text of each time

    @property
    def status(self) -> str:
        """The status of the last attempt."""
        return self.attempts[-1].status if self.attempts else "unknown"

    @property
    def entry(self) -> dict[str, Any] | None:
        """The last TurnEntry recorded for the step."""
        for attempt in reversed(self.attempts):
            if attempt.entry is not None:
                return attempt.entry
        return None

    @property
    def reused_from(self) -> str | None:
        """The run the entry that closed the last attempt was reused from, if any."""
        return self.attempts[-1].reused_from if self.attempts else None

    @property
    def reconciled(self) -> bool:
        """Whether the entry that closed the last attempt was recovered by ``reconcile``."""
        return bool(self.attempts) and self.attempts[-1].reconciled

    def _sum(self, key: str) -> float | int | None:
        values = [a.entry.get(key) for a in self.attempts if a.entry]
        present = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        return sum(present) if present else None

    @property
    def cost_usd(self) -> float | None:
        """Cost of every entry of the step; None when none has a cost (context steps)."""
        return self._sum("cost_usd")

    @property
    def input_tokens(self) -> int:
        """Input tokens of every entry of the step."""
        return int(self._sum("input_tokens") or 0)

    @property
    def output_tokens(self) -> int:
        """Output tokens of every entry of the step."""
        return int(self._sum("output_tokens") or 0)

    @property
    def error(self) -> str | None:
        """The last attempt's error, or ``cancelled by X: reason``."""
        last = self.attempts[-1] if self.attempts else None
        if last is None:
            return None
        if last.status == "cancelled":
            return f"cancelled by {last.cancelled_by}: {last.reason}"
        return last.error

    @property
    def is_join(self) -> bool:
        """Whether the step is a join (its entry's prompt is ``join:[…]``)."""
        prompt = (self.entry or {}).get("prompt")
        return isinstance(prompt, str) and prompt.startswith(("join:[", "join (no async"))

    @property
    def join_deps(self) -> list[str]:
        """A join's dependencies, from its ``join:[a,b]`` prompt."""
        prompt = (self.entry or {}).get("prompt")
        if not (isinstance(prompt, str) and prompt.startswith("join:[") and
                prompt.endswith("]")):
            return []
        return [dep for dep in prompt[len("join:["):-1].split(",") if dep]


@dataclass
class RunRecord:
    """A run rebuilt from its turn log."""

    run_id: str
    path: Path
    pipeline_source: str | None = None
    project_hash: str | None = None
    status: str = "unknown"
    error_type: str | None = None
    error: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    steps: list[StepRecord] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=lambda: [Segment(0)])
    torn_tail: bool = False
    warnings: list[str] = field(default_factory=list)
    has_run_finished: bool = False
    has_timestamps: bool = False
    written_by: str = "ail"  # "ail-tui" when a typed record carries our ``at``

    def step(self, step_id: str) -> StepRecord | None:
        """The record of one step."""
        return next((s for s in self.steps if s.step_id == step_id), None)

    @property
    def resumes(self) -> list[float | None]:
        """When the run was resumed in this log, in order (None: the record has no time)."""
        return [segment.at for segment in self.segments[1:]]

    @property
    def resumable(self) -> bool:
        """Whether ``ail-tui resume`` can continue the run (D1): it was interrupted, failed,
        aborted or cancelled — not completed, not stopped at a ``break``, not running."""
        return self.status in RESUMABLE

    @property
    def total_cost(self) -> float:
        """Sum of the TurnEntries' ``cost_usd``, but for results reused from an earlier
        run (their cost was spent there)."""
        return float(sum(cost for r in self.records if kind_of(r) == "entry"
                         and not isinstance(r.get("reused_from"), str)
                         and isinstance(cost := r.get("cost_usd"), int | float)))

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish; None when the log has no timestamps."""
        if not self.has_timestamps or self.started_at is None or self.finished_at is None:
            return None
        return max(self.finished_at - self.started_at, 0.0)

    def all_attempts(self) -> list[tuple[StepRecord, Attempt]]:
        """Every attempt of every step, in the order the log opened them."""
        pairs = [(step, attempt) for step in self.steps for attempt in step.attempts]
        return sorted(pairs, key=lambda pair: pair[1].first_record)

    def counts(self) -> Counter[str]:
        """Steps by status."""
        return Counter(s.status for s in self.steps)

    def groups(self) -> dict[str, list[StepRecord]]:
        """Concurrent groups and their steps, both in first-appearance order."""
        out: dict[str, list[StepRecord]] = {}
        for step in self.steps:
            if step.concurrent_group:
                out.setdefault(step.concurrent_group, []).append(step)
        return out
