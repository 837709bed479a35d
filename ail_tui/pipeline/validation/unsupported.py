"""Spec features ail-tui does not implement: each is an error at its place, so a pipeline
that uses one fails at ``validate`` rather than half-way through a run."""

from __future__ import annotations

from ail_tui.pipeline.models import Step
from ail_tui.pipeline.validation.findings import Findings


def check_unsupported(step: Step, findings: Findings) -> None:
    """``action: reload_self`` (§21), ``context: spec`` (§31.4) and ``spec:`` entries of
    ``append_system_prompt`` (§31.5)."""
    if step.action == "reload_self":
        findings.error(f"{step.label} uses action: reload_self (SPEC §21), which ail-tui does "
                       "not support", step.pos("action"), step.id)
    if step.context is not None and step.context.spec is not None:
        findings.error(f"{step.label} uses context: spec (SPEC §31.4), which ail-tui does not "
                       "support; use context: shell", step.context.pos("spec"), step.id)
    for index, entry in enumerate(step.append_system_prompt or ()):
        if not isinstance(entry, str) and entry.spec is not None:
            findings.error(f"{step.label} append_system_prompt entry {index} uses spec: "
                           "(SPEC §31.5), which ail-tui does not support", entry.pos("spec"),
                           step.id)
