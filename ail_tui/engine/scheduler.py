"""Branch scheduling for async steps (spec §29, decisions P1–P3).

A launched branch starts the moment its own dependencies are done and a concurrency
slot is free — no level-by-level barriers. Branches whose dependency failed or was
cancelled, and queued branches cancelled before they start, never start. Once a
dependency of a ``fail_fast`` join has failed, the join's other dependencies are
cancelled at once: queued ones never start, running ones are stopped (P3).
"""

from __future__ import annotations

import threading
import time
from collections import deque
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
    cancelled_by: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        """Whether the branch has ended, one way or another."""
        return self.state in FINISHED

    @property
    def cause(self) -> str:
        """Who ended a failed or cancelled branch: the branch itself when it failed, else
        whoever cancelled it (a step whose failure caused it, or ``user``)."""
        if self.state is BranchState.CANCELLED and self.cancelled_by:
            return self.cancelled_by
        return self.step_id

    def outcome(self) -> DepOutcome:
        """How the branch ended, as a join sees it."""
        if self.state is BranchState.DONE:
            return DepOutcome(self.step_id, entry=self.entry)
        if self.state is BranchState.SKIPPED:
            return DepOutcome(self.step_id)
        return DepOutcome(self.step_id, error_type=self.error_type or ErrorType.RUNNER_CANCELLED,
                          error=self.error or "cancelled")


FailFastJoin = tuple[str, tuple[str, ...]]
"""A ``fail_fast`` join the cursor will reach: its id and its dependencies' ids."""


class Scheduler:
    """Starts branches as their dependencies finish, never more than ``cap`` at once.

    Readiness is tracked per branch (a count of unfinished dependencies), so launching
    or finishing a branch costs time in proportion to its own edges, not to the queue.
    """

    def __init__(
        self,
        cap: int | None,
        start: Callable[[Branch], None],
        never_started: Callable[[Branch, Cancellation], None],
        paused: Callable[[], bool],
        before_wait: Callable[[], None] = lambda: None,
        fail_fast: Iterable[FailFastJoin] = (),
    ) -> None:
        """``before_wait`` is called before :meth:`wait_for` blocks (outside the lock);
        ``fail_fast`` lists the joins whose dependencies are cancelled on a failure."""
        self.cap = cap if cap and cap > 0 else None
        self._before_wait = before_wait
        self._start = start
        self._never_started = never_started
        self._paused = paused
        self.branches: dict[str, Branch] = {}
        self._unfinished_deps: dict[str, int] = {}
        self._dependents: dict[str, list[Branch]] = {}
        self._ready: deque[Branch] = deque()
        self._doomed: list[tuple[Branch, Cancellation]] = []
        self._to_stop: list[tuple[Branch, Cancellation]] = []
        self._fail_fast: dict[str, list[FailFastJoin]] = {}
        for join in fail_fast:
            for dep in join[1]:
                self._fail_fast.setdefault(dep, []).append(join)
        self._tripped: dict[str, Cancellation] = {}  # fail_fast joins with a failed dependency
        self._running = 0
        self.peak_running = 0
        self.changed = threading.Condition()

    # -- the cursor's side ---------------------------------------------------------------

    def launch(self, branch: Branch) -> None:
        """Queue a branch; it starts when it can."""
        with self.changed:
            self.branches[branch.step_id] = branch
            waiting = 0
            for dep in branch.deps:
                other = self.branches.get(dep)
                if other is None or other is branch:
                    continue
                if other.state in (BranchState.FAILED, BranchState.CANCELLED):
                    self._doom(branch, Cancellation(
                        other.cause, f"dependency '{dep}' {other.state.value}"))
                    break
                if not other.finished:
                    waiting += 1
                    self._dependents.setdefault(dep, []).append(branch)
            else:
                tripped = next((self._tripped[join_id] for join_id, _ in
                                self._fail_fast.get(branch.step_id, ())
                                if join_id in self._tripped), None)
                if tripped is not None:
                    self._doom(branch, tripped)
                elif waiting:
                    self._unfinished_deps[branch.step_id] = waiting
                else:
                    self._ready.append(branch)
        branch.token.on_cancel(lambda: self._cancelled(branch))
        self.pump()

    def skipped(self, branch: Branch) -> None:
        """Record a condition-skipped async step: it counts as finished for its dependents."""
        self._ended_unrun(branch, BranchState.SKIPPED)

    def restored(self, branch: Branch) -> None:
        """Record a branch whose earlier result is reused (``branch.entry``): done."""
        self._ended_unrun(branch, BranchState.DONE)

    def _ended_unrun(self, branch: Branch, state: BranchState) -> None:
        branch.state = state
        branch.completed_at = time.time()
        with self.changed:
            self.branches[branch.step_id] = branch
            self._settle(branch)
        self.pump()

    def in_flight(self) -> list[Branch]:
        """Branches not yet finished, in launch order."""
        with self.changed:
            return [b for b in self.branches.values() if not b.finished]

    def wait_for(self, ids: Iterable[str], stop: Callable[[list[Branch]], bool] | None = None,
                 cancel: CancelToken | None = None) -> list[Branch]:
        """Block until every branch in ``ids`` has finished (or ``stop`` says enough)."""
        self._before_wait()
        with self.changed:
            wanted = [self.branches[i] for i in ids if i in self.branches]
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
        """Called when a started branch ends; frees its slot and readies its dependents."""
        branch.completed_at = branch.completed_at or time.time()
        with self.changed:
            branch.state = state
            self._running -= 1
            self._settle(branch)
        self.pump()

    def pump(self) -> None:
        """Start every ready branch a slot allows; report those that will never start."""
        to_start: list[Branch] = []
        with self.changed:
            while self._ready and not self._paused() and (
                    self.cap is None or self._running < self.cap):
                branch = self._ready.popleft()
                if branch.state is not BranchState.QUEUED:
                    continue
                self._running += 1
                self.peak_running = max(self.peak_running, self._running)
                branch.state = BranchState.RUNNING
                to_start.append(branch)
            doomed, self._doomed = self._doomed, []
            to_stop, self._to_stop = self._to_stop, []
        for branch, why in doomed:
            self._never_started(branch, why)
        for branch, why in to_stop:
            branch.token.cancel(why)
        for branch in to_start:
            self._start(branch)

    # -- bookkeeping (callers hold the lock) ---------------------------------------------

    def _cancelled(self, branch: Branch) -> None:
        with self.changed:
            if branch.state is BranchState.QUEUED:
                self._doom(branch, branch.token.cancellation
                           or Cancellation("run", "cancelled before it started"))
        self.pump()

    def _doom(self, branch: Branch, why: Cancellation) -> None:
        """A queued branch that will never start: finished as cancelled, with its dependents."""
        branch.state = BranchState.CANCELLED
        branch.error_type = ErrorType.RUNNER_CANCELLED
        branch.error = why.reason
        branch.cancelled_by = why.by
        branch.completed_at = time.time()
        self._unfinished_deps.pop(branch.step_id, None)
        self._doomed.append((branch, why))
        self._settle(branch)

    def _settle(self, branch: Branch) -> None:
        """A branch finished: wake waiters and update its queued dependents."""
        branch.done.set()
        self.changed.notify_all()
        failed = branch.state in (BranchState.FAILED, BranchState.CANCELLED)
        for dependent in self._dependents.pop(branch.step_id, []):
            if dependent.state is not BranchState.QUEUED:
                continue
            if failed:
                self._doom(dependent, Cancellation(
                    branch.cause, f"dependency '{branch.step_id}' {branch.state.value}"))
                continue
            left = self._unfinished_deps.get(dependent.step_id, 1) - 1
            if left <= 0:
                self._unfinished_deps.pop(dependent.step_id, None)
                self._ready.append(dependent)
            else:
                self._unfinished_deps[dependent.step_id] = left
        if failed:
            for join in self._fail_fast.get(branch.step_id, ()):
                self._trip(join, branch)

    def _trip(self, join: FailFastJoin, culprit: Branch) -> None:
        """A dependency of a fail_fast join failed: its queued dependencies will never
        start, its running ones are stopped (outside the lock, by :meth:`pump`)."""
        join_id, deps = join
        if join_id in self._tripped:
            return
        why = Cancellation(culprit.cause, f"join '{join_id}': dependency "
                           f"'{culprit.step_id}' {culprit.state.value}")
        self._tripped[join_id] = why
        for dep in deps:
            other = self.branches.get(dep)
            if other is None or other is culprit:
                continue
            if other.state is BranchState.QUEUED:
                self._doom(other, why)
            elif other.state is BranchState.RUNNING:
                self._to_stop.append((other, why))
