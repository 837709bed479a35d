"""An earlier run's results, and which of them a run may take instead of running a step.

``resume`` (D1) goes on with a run in its own log; ``rerun`` (D4) starts a new run that
reuses an earlier one's results. Either way a completed step's result is reused only
while its definition is unchanged and nothing it can read runs again (D2): the steps
before a sequential step; for a branch, the sequential steps before it and its
``depends_on``. Results are keyed by step id and, inside loops, by iteration, so a loop
that stopped half way keeps the iterations it finished.

A step still in flight when the earlier run stopped (``step_started`` and nothing after
it, and no ``run_finished``) is reported by :meth:`PriorRun.in_flight` (D3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ail_tui.files import FileReadError
from ail_tui.pipeline.fingerprint import files_hash, pipeline_hash, step_fingerprints
from ail_tui.pipeline.loader import Pipeline
from ail_tui.turnlog.entry import TurnEntry, entry_from_record
from ail_tui.turnlog.reader import RunRecord
from ail_tui.turnlog.records import kind_of

Key = tuple[str, tuple[int, ...]]
"""A step id and, inside loops, its iteration (one 1-based number per enclosing loop)."""

INVOCATION = "invocation"


def top_step(step_id: str) -> str:
    """The top-level step a (possibly inner, chained or on_result) step id belongs to."""
    top = step_id.split("::", 1)[0]
    return top.removesuffix("__on_result")


def _key(record: dict[str, Any]) -> Key:
    iteration = record.get("iteration")
    numbers = tuple(i for i in iteration if isinstance(i, int)) if isinstance(
        iteration, list) else ()
    return str(record.get("step_id")), numbers


@dataclass
class _Segment:
    """One stretch of a run (its start, or a resume): what its pipeline was."""

    pipeline_hash: str | None = None
    step_hashes: dict[str, str] | None = None
    files_hash: str | None = None


@dataclass
class _Scan:
    """What the records of a log say about each step key, in order."""

    state: dict[Key, str] = field(default_factory=dict)  # open|done|continued|failed|...
    done: dict[Key, dict[str, Any]] = field(default_factory=dict)
    made_in: dict[Key, int] = field(default_factory=dict)  # the segment of each result
    prompts: dict[Key, str] = field(default_factory=dict)  # of each step's last start
    children: dict[Key, str] = field(default_factory=dict)  # sub-pipeline run ids
    gates: set[Key] = field(default_factory=set)  # pause_for_human gates gone past
    segments: list[_Segment] = field(default_factory=list)
    prompt: str | None = None

    def read(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            kind = kind_of(record)
            if kind in ("run_started", "run_resumed"):
                value = record.get("pipeline_hash")
                self.segments.append(_Segment(value if isinstance(value, str) else None))
            elif kind == "step_definitions" and isinstance(record.get("step_hashes"), dict):
                if not self.segments:
                    self.segments.append(_Segment())
                self.segments[-1].step_hashes = record["step_hashes"]
                value = record.get("files_hash")
                self.segments[-1].files_hash = value if isinstance(value, str) else None
            elif kind == "run_finished":
                for key, state in self.state.items():
                    if state == "open":
                        self.state[key] = "failed"
            elif kind in ("step_started", "step_error", "step_cancelled", "entry") and (
                    isinstance(record.get("step_id"), str)):
                self._step_record(kind, record)
            elif kind == "gate_passed" and isinstance(record.get("step_id"), str):
                self.gates.add(_key(record))

    def _step_record(self, kind: str, record: dict[str, Any]) -> None:
        key = _key(record)
        if kind == "step_started":
            self.state[key] = "open"
            if isinstance(record.get("prompt"), str):
                self.prompts[key] = record["prompt"]
            if isinstance(record.get("child_run_id"), str):
                self.children[key] = record["child_run_id"]
            if key[0] == INVOCATION and isinstance(record.get("prompt"), str):
                self.prompt = record["prompt"]
        elif kind == "step_error":
            action = record.get("on_error_action")
            self.state[key] = {"retry": "retried", "continue": "continued"}.get(
                str(action), "failed")
        elif kind == "step_cancelled":
            self.state[key] = "cancelled"
        else:
            if self.state.get(key) == "continued" and not record.get("response"):
                return  # a branch's empty entry after on_error: continue
            self.state[key] = "done"
            self.done[key] = record
            self.made_in[key] = len(self.segments) - 1
            if key[0] == INVOCATION and isinstance(record.get("prompt"), str):
                self.prompt = record["prompt"]

    def definitions_if_same(self, pipeline_hash: str | None,
                            files: str) -> dict[str, str] | None:
        """The step definitions the run's latest stretch recorded, when its pipeline file
        and the files its steps read are as they are now (so none can have changed)."""
        latest = self.segments[-1] if self.segments else None
        if (latest is None or latest.step_hashes is None or pipeline_hash is None
                or latest.pipeline_hash != pipeline_hash or latest.files_hash != files):
            return None
        return latest.step_hashes

    def unchanged(self, step_id: str, segment: int, current: dict[str, str],
                  pipeline_hash: str | None) -> bool:
        """Whether top-level step ``step_id`` is what it was in ``segment`` of the run:
        by its definition's hash, else (the run stopped before it recorded them) by the
        pipeline file's, else (older and Rust logs record neither) taken as unchanged."""
        if not self.segments:
            return True
        known = self.segments[max(segment, 0)]
        if known.step_hashes is not None:
            return known.step_hashes.get(step_id) == current.get(step_id)
        if known.pipeline_hash is not None and pipeline_hash is not None:
            return known.pipeline_hash == pipeline_hash
        return True


@dataclass
class PriorRun:
    """The results of an earlier run that this run may reuse."""

    run_id: str
    path: Path
    resume: bool
    """Whether this run *is* that run, going on in its log (resume), or a new one."""
    prompt: str | None
    """The earlier run's invocation prompt."""
    status: str
    _scan: _Scan
    _current: dict[str, str]
    _pipeline_hash: str | None
    _reusable: set[str]
    files_hash: str | None = None
    """The hash of the files this run's steps read (recorded with its definitions)."""
    reconcile_in_flight: bool = True
    """Whether a step in flight when the earlier run stopped runs its ``reconcile``
    command (D3); False where the body that was in flight is handed over instead."""

    def _may_take(self, key: Key) -> bool:
        top = top_step(key[0])
        if key not in self._scan.done or top not in self._reusable:
            return False
        return self._scan.unchanged(top, self._scan.made_in[key], self._current,
                                    self._pipeline_hash)

    def take(self, step_id: str, iteration: tuple[int, ...] = ()) -> TurnEntry | None:
        """The earlier result of this step (and iteration) when it may be reused."""
        key = (step_id, iteration)
        if not self._may_take(key):
            return None
        entry = entry_from_record(self._scan.done[key], times=False)  # this run's times
        entry.reused_from = self.run_id
        return entry

    def last_iteration(self, loop_id: str, iteration: tuple[int, ...] = ()) -> list[TurnEntry]:
        """The results of the inner steps of a reused loop's last iteration, which the
        steps after it can read (a loop keeps only its last iteration's results)."""
        prefix, depth = f"{loop_id}::", len(iteration) + 1
        inner = [(key, record) for key, record in self._scan.done.items()
                 if key[0].startswith(prefix) and len(key[1]) >= depth
                 and key[1][:depth - 1] == iteration]
        if not inner:
            return []
        last = max(key[1][depth - 1] for key, _ in inner)
        entries = []
        for key, record in inner:
            if key[1][depth - 1] == last:
                entry = entry_from_record(record)
                entry.reused_from = self.run_id
                entries.append(entry)
        return entries

    def passed_gate(self, step_id: str, iteration: tuple[int, ...] = ()) -> bool:
        """Whether the earlier run went past this ``pause_for_human`` gate, and that still
        holds (nothing before it runs again)."""
        return (step_id, iteration) in self._scan.gates and top_step(step_id) in self._reusable

    def child_run(self, step_id: str, iteration: tuple[int, ...] = ()) -> str | None:
        """The run id of the sub-pipeline run a step started that did not complete (a
        completed step is reused, never started again)."""
        key = (step_id, iteration)
        if self._scan.state.get(key) == "done":
            return None
        return self._scan.children.get(key)

    def in_flight(self, step_id: str, iteration: tuple[int, ...] = ()) -> str | None:
        """The prompt of the step's attempt that was running when the earlier run stopped
        without a word (None: none was)."""
        key = (step_id, iteration)
        if self._scan.state.get(key) != "open":
            return None
        return self._scan.prompts.get(key, "")

    @property
    def fingerprints(self) -> dict[str, str]:
        """The step definitions of the pipeline this run runs (D2)."""
        return self._current

    def reusable_count(self) -> int:
        """How many of the earlier run's step results this run may take."""
        return sum(1 for key in self._scan.done if self._may_take(key))


class UnknownStep(ValueError):
    """``--from`` names a step the pipeline does not have."""


def _file_hash(pipeline: Pipeline) -> str | None:
    try:
        return pipeline_hash(pipeline.source)
    except FileReadError:
        return None


def plan_reuse(record: RunRecord, pipeline: Pipeline, current: dict[str, str] | None, *,
               resume: bool, prompt: str | None, from_step: str | None = None,
               cwd: str | None = None) -> PriorRun:
    """What of ``record`` a run of ``pipeline`` (step fingerprints ``current``; None:
    worked out, or taken from the record when nothing can have changed) may reuse.

    ``from_step``: nothing at or after that step is reused (rerun --from). ``prompt``: the
    new run's invocation prompt; when it differs from the earlier one nothing is reused.
    """
    scan = _Scan()
    scan.read(record.records)
    steps = [s for s in pipeline.steps if s.id is not None]
    ids = [str(s.id) for s in steps]
    cut = len(ids)
    if from_step is not None:
        top = top_step(from_step)
        if top not in ids:
            raise UnknownStep(f"the pipeline has no step '{from_step}'")
        cut = ids.index(top)
    file_hash = _file_hash(pipeline)
    files = files_hash(pipeline, cwd)
    if current is None:
        current = scan.definitions_if_same(file_hash, files) or step_fingerprints(
            pipeline, cwd=cwd)

    def changed(step_id: str) -> bool:
        """Against the result it left, else the run's latest stretch."""
        segment = scan.made_in.get((step_id, ()), len(scan.segments) - 1)
        return not scan.unchanged(step_id, segment, current, file_hash)

    tainted: set[str] = set()
    same_prompt = prompt is None or scan.prompt is None or prompt == scan.prompt
    if not same_prompt:
        tainted.update(ids)  # every step can read the invocation
    any_tainted = bool(tainted)  # among the steps so far
    sequential_tainted = any_tainted  # among the sequential steps so far
    for index, step in enumerate(steps):
        step_id = ids[index]
        if step.async_:  # a branch reads the sequential steps before it and its depends_on
            reads_tainted = sequential_tainted or any(
                d in tainted for d in step.depends_on or ())
        else:  # a sequential step can read every step before it
            reads_tainted = any_tainted
        if index >= cut or reads_tainted or changed(step_id):
            tainted.add(step_id)
            any_tainted = True
            sequential_tainted = sequential_tainted or not step.async_
    reusable = {i for i in ids if i not in tainted}
    if same_prompt:
        reusable.add(INVOCATION)
    return PriorRun(record.run_id, record.path, resume, scan.prompt, record.status, scan,
                    current, file_hash, reusable, files)
