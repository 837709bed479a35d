"""Branch scheduling for async steps (spec §29, decisions P1–P3).

A launched branch starts the moment its own dependencies are done and a concurrency
slot is free — no level-by-level barriers. Branches whose dependency failed or was
cancelled, and queued branches cancelled before they start, never start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from ail_tui.cancel import Cancellation, CancelToken
from ail_tui.engine.joins import DepOutcome
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.models import Step
from ail_tui.turnlog.entry import TurnEntry


class BranchState(StrEnum):
    """Where a branch is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


FINISHED = frozenset({BranchState.DONE, BranchState.FAILED, BranchState.CANCELLED,
                      BranchState.SKIPPED})


@dataclass(eq=False)
class Branch:
    """One async step of a list: launched by the cursor, run by the scheduler."""

    step: Step
    step_id: str
    index: int
    group: str
    deps: tuple[str, ...]
    token: CancelToken
    total: int = 0
    launched_at: float = field(default_factory=time.time)
    state: BranchState = BranchState.QUEUED
    started_at: float | None = None
    completed_at: float | None = None
    entry: TurnEntry | None = None
    error_type: str | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        """Whether the branch has ended, one way or another."""
        return self.state in FINISHED

    def outcome(self) -> DepOutcome:
        """How the branch ended, as a join sees it."""
        if self.state is BranchState.DONE:
            return DepOutcome(self.step_id, entry=self.entry)
        if self.state is BranchState.SKIPPED:
            return DepOutcome(self.step_id)
        return DepOutcome(self.step_id, error_type=self.error_type or ErrorType.RUNNER_CANCELLED,
                          error=self.error or "cancelled")


class Scheduler:
    """Starts branches as their dependencies finish, never more than ``cap`` at once."""

    def __init__(
        self,
        cap: int | None,
        start: Callable[[Branch], None],
        never_started: Callable[[Branch, Cancellation], None],
        paused: Callable[[], bool],
    ) -> None:
        self.cap = cap if cap and cap > 0 else None
        self._start = start
        self._never_started = never_started
        self._paused = paused
        self.branches: dict[str, Branch] = {}
        self._queue: list[Branch] = []
        self._running = 0
        self.peak_running = 0
        self.changed = threading.Condition()

    # -- the cursor's side ---------------------------------------------------------------

    def launch(self, branch: Branch) -> None:
        """Queue a branch; it starts when it can."""
        with self.changed:
            self.branches[branch.step_id] = branch
            self._queue.append(branch)
        self.pump()

    def skipped(self, branch: Branch) -> None:
        """Record a condition-skipped async step: it counts as finished for its dependents."""
        branch.state = BranchState.SKIPPED
        branch.completed_at = time.time()
        with self.changed:
            self.branches[branch.step_id] = branch
            branch.done.set()
            self.changed.notify_all()
        self.pump()

    def in_flight(self) -> list[Branch]:
        """Branches not yet finished, in launch order."""
        with self.changed:
            return [b for b in self.branches.values() if not b.finished]

    def wait_for(self, ids: Iterable[str], stop: Callable[[list[Branch]], bool] | None = None,
                 cancel: CancelToken | None = None) -> list[Branch]:
        """Block until every branch in ``ids`` has finished (or ``stop`` says enough)."""
        wanted = [self.branches[i] for i in ids if i in self.branches]
        with self.changed:
            while True:
                if all(b.finished for b in wanted):
                    return wanted
                if stop is not None and stop(wanted):
                    return wanted
                if cancel is not None and cancel.cancelled:
                    return wanted
                self.changed.wait(0.25)

    # -- the branches' side --------------------------------------------------------------

    def mark_running(self, branch: Branch) -> None:
        """Called by the branch thread when its body begins."""
        branch.state = BranchState.RUNNING
        branch.started_at = time.time()

    def finish(self, branch: Branch, state: BranchState) -> None:
        """Called when a started branch ends; frees its slot."""
        branch.state = state
        branch.completed_at = branch.completed_at or time.time()
        with self.changed:
            self._running -= 1
            branch.done.set()
            self.changed.notify_all()
        self.pump()

    def pump(self) -> None:
        """Start every queued branch that can start; drop those that never will."""
        to_start: list[Branch] = []
        dropped: list[tuple[Branch, Cancellation]] = []
        with self.changed:
            remaining: list[Branch] = []
            for branch in self._queue:
                why = self._blocked_for_good(branch)
                if why is not None:
                    branch.state = BranchState.CANCELLED
                    branch.error_type = ErrorType.RUNNER_CANCELLED
                    branch.error = why.reason
                    branch.completed_at = time.time()
                    dropped.append((branch, why))
                    continue
                if (self._deps_done(branch) and not self._paused()
                        and (self.cap is None or self._running < self.cap)):
                    self._running += 1
                    self.peak_running = max(self.peak_running, self._running)
                    branch.state = BranchState.RUNNING
                    to_start.append(branch)
                else:
                    remaining.append(branch)
            self._queue = remaining
        for branch, why in dropped:
            self._never_started(branch, why)
            with self.changed:
                branch.done.set()
                self.changed.notify_all()
        for branch in to_start:
            self._start(branch)
        if dropped:
            self.pump()

    def _deps_done(self, branch: Branch) -> bool:
        return all(self.branches[d].finished for d in branch.deps if d in self.branches)

    def _blocked_for_good(self, branch: Branch) -> Cancellation | None:
        if branch.token.cancelled:
            return branch.token.cancellation or Cancellation("run", "cancelled before it started")
        for dep in branch.deps:
            other = self.branches.get(dep)
            if other is not None and other.state in (BranchState.FAILED, BranchState.CANCELLED):
                return Cancellation("dependency", f"dependency '{dep}' {other.state.value}")
        return None
