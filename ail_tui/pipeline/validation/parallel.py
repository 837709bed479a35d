"""The §29 rules of one step list: collectors, depends_on, cycles, joins, resume."""

from __future__ import annotations

from collections.abc import Sequence

from ail_tui.pipeline.models import Step
from ail_tui.pipeline.validation.findings import Findings


def uses_parallel(steps: Sequence[Step]) -> bool:
    """Whether the §29 rules apply to this list at all."""
    return any(s.async_ or s.depends_on is not None or s.is_join for s in steps)


class DependencyClosure:
    """Each step's transitive ``depends_on`` (steps declared earlier only).

    Kept as one bit set (an int) per step, so a long chain costs bits, not a set per step.
    """

    def __init__(self, steps: Sequence[Step]) -> None:
        self._ids: list[str] = []
        self._bit: dict[str, int] = {}
        self._masks: dict[str, int] = {}
        for step in steps:
            if step.id is None:
                continue
            mask = 0
            for dep in step.depends_on or ():
                if dep in self._masks:
                    mask |= self._masks[dep] | (1 << self._bit[dep])
            if step.id not in self._bit:
                self._bit[step.id] = len(self._ids)
                self._ids.append(step.id)
            self._masks[step.id] = mask

    def depends(self, step_id: str, on: str) -> bool:
        """Whether ``step_id`` transitively depends on ``on``."""
        bit = self._bit.get(on)
        return bit is not None and bool(self._masks.get(step_id, 0) >> bit & 1)

    def of(self, step_id: str) -> list[str]:
        """Every step ``step_id`` transitively depends on, in declaration order."""
        mask = self._masks.get(step_id, 0)
        return [name for bit, name in enumerate(self._ids) if mask >> bit & 1]


def check_parallel(steps: Sequence[Step], findings: Findings) -> None:
    """Report every §29 rule this list breaks (brief §3.8)."""
    if not uses_parallel(steps):
        return
    index_of: dict[str, int] = {}
    for index, step in enumerate(steps):
        if step.id is not None:
            index_of.setdefault(step.id, index)
    collected = {dep for s in steps for dep in (s.depends_on or ())}
    for index, step in enumerate(steps):
        if step.async_ and step.id is not None and step.id not in collected:
            findings.error(
                f"{step.label} is marked async: true but is not named in any step's "
                "depends_on list; every async step must have at least one collector "
                "(SPEC §29.11)",
                step.key_pos("async"),
                step.id,
            )
        if step.is_join and not step.depends_on:
            findings.error(
                f"{step.label} declares action: join but has no depends_on list; a join "
                "step requires at least one dependency (SPEC §29.3)",
                step.pos("action"),
                step.id,
            )
        seen: set[str] = set()
        for position, dep in enumerate(step.depends_on or ()):
            where = step.item_pos("depends_on", position)
            if dep in seen:
                findings.error(f"{step.label} lists '{dep}' more than once in depends_on",
                               where, step.id)
            seen.add(dep)
            if dep not in index_of:
                findings.error(
                    f"{step.label} depends_on references '{dep}' which is not declared in "
                    "this pipeline",
                    where,
                    step.id,
                )
            elif index_of[dep] >= index:
                findings.error(
                    f"{step.label} depends_on references '{dep}' which is declared later "
                    "(or is self-referencing); depends_on must reference earlier steps "
                    "(SPEC §29.1)",
                    where,
                    step.id,
                )
            elif step.is_join and step.output_schema is not None:
                dep_step = steps[index_of[dep]]
                if dep_step.output_schema is None:
                    findings.error(
                        f"{step.label} (action: join) declares output_schema but dependency "
                        f"'{dep}' does not declare output_schema; all dependencies must be "
                        "structured for a structured join (SPEC §29.5)",
                        where,
                        step.id,
                    )
    resumers = [s for s in steps if s.async_ and s.resume]
    if len(resumers) >= 2:
        names = ", ".join(str(s.id) for s in resumers)
        findings.error(
            f"Multiple async steps declare resume: true ({names}) — concurrent steps cannot "
            "share a runner session (SPEC §29.9)",
            resumers[1].pos("resume"),
            resumers[1].id,
        )
