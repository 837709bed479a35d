"""Where a step sits: its list, the loops around it, and the steps it may read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ail_tui.files import FileReadError, read_text_file
from ail_tui.pipeline.loader import LoadResult, Pipeline
from ail_tui.pipeline.models import Step
from ail_tui.pipeline.validation.findings import Findings
from ail_tui.pipeline.validation.parallel import DependencyClosure

MAX_LOOP_DEPTH = 8
"""Loops nest at most this deep (``ail:loop/depth-exceeded``)."""


@dataclass(frozen=True)
class Loop:
    """An enclosing do_while or for_each."""

    kind: str  # "do_while" | "for_each"
    step_id: str
    item_name: str | None = None  # for_each `as`


@dataclass(frozen=True)
class StepList:
    """One list of steps being validated (main, named, loop body or chain)."""

    label: str
    steps: tuple[Step, ...]
    prefix: str = ""
    loops: tuple[Loop, ...] = ()
    parent: Anchor | None = None
    sequential: bool = False  # loop bodies ignore `async`
    file: Path | None = None  # the loop pipeline file the steps were read from

    @cached_property
    def recorded_at(self) -> dict[str, int]:
        """For each id recorded by this list's steps, the index of the first step recording it."""
        first: dict[str, int] = {}
        for index, step in enumerate(self.steps):
            for name in recorded_ids(step, self.prefix, len(self.loops)):
                first.setdefault(name, index)
        return first

    def recorded_before(self, name: str, index: int) -> bool:
        """Whether a step before ``index`` records entries under ``name``."""
        return self.recorded_at.get(name, index) < index

    @cached_property
    def closure(self) -> DependencyClosure:
        """Each step id's transitive depends_on."""
        return DependencyClosure(self.steps)

    @cached_property
    def settled_at(self) -> dict[str, int]:
        """For each step id, the index of the first sequential step that waits for it."""
        settled: dict[str, int] = {}
        for index, step in enumerate(self.steps):
            if not step.async_ and step.id is not None:
                for dep in self.closure.of(step.id):
                    settled.setdefault(dep, index)
        return settled


@dataclass(frozen=True)
class Anchor:
    """A step at an index of a list: where a template is read from."""

    steps: StepList
    index: int

    def chain(self) -> list[Anchor]:
        """This anchor and every enclosing one, innermost first."""
        out: list[Anchor] = []
        current: Anchor | None = self
        while current is not None:
            out.append(current)
            current = current.steps.parent
        return out


def recorded_ids(step: Step, prefix: str = "", depth: int = 0) -> set[str]:
    """The ids a step's entries are recorded under: itself, its chains and loop bodies.

    ``depth`` is how many loops enclose ``step``. A loop body nested deeper than
    :data:`MAX_LOOP_DEPTH` (an ``ail:loop/depth-exceeded`` error) adds only its plain
    ids: spelling out every path through it doubles the set at each level.
    """
    if step.id is None:
        return set()
    own = prefix + step.id
    out = {own, step.id}
    out.update(_chain_ids(step, step.id))
    body = _loop_body(step)
    if depth >= MAX_LOOP_DEPTH:
        out.update(_plain_ids(body))
        return out
    for inner in body:
        for inner_id in recorded_ids(inner, depth=depth + 1):
            out.add(f"{step.id}::{inner_id}")
            out.add(inner_id)
    return out


def _chain_ids(step: Step, parent: str) -> Iterator[str]:
    """The ids of ``step``'s chain steps (``<parent>::before::0``) and of their own chains."""
    for chain in ("before", "then"):
        for index, entry in enumerate(getattr(step, chain) or ()):
            chain_id = f"{parent}::{chain}::{index}"
            yield chain_id
            if isinstance(entry, Step):
                yield from _chain_ids(entry, chain_id)


def _loop_body(step: Step) -> list[Step]:
    loop = step.do_while or step.for_each
    return (loop.steps if loop is not None else None) or []


def _plain_ids(steps: list[Step]) -> Iterator[str]:
    """The ids of ``steps`` and of every step nested in their loop bodies."""
    pending = list(steps)
    while pending:
        step = pending.pop()
        if step.id is not None:
            yield step.id
        pending.extend(_loop_body(step))


@dataclass
class Context:
    """Shared state of one validation pass."""

    pipeline: Pipeline
    findings: Findings
    all_ids: set[str] = field(default_factory=set)
    referenced_files: set[Path] = field(default_factory=set)
    loop_files: dict[Path, LoadResult] = field(default_factory=dict)
    loop_file_steps: int = 0  # steps checked in loop pipeline files, all visits counted
    _lines: dict[str, list[str] | None] = field(default_factory=dict)

    def source_line(self, file: str, line: int) -> str | None:
        """Line ``line`` (1-based) of a source file, or None when it cannot be read."""
        if file not in self._lines:
            try:
                self._lines[file] = read_text_file(file).splitlines()
            except FileReadError:
                self._lines[file] = None
        lines = self._lines[file]
        if lines is None or not 0 < line <= len(lines):
            return None
        return lines[line - 1]
