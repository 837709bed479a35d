"""The ail-tui `reconcile:` step key (decisions D3): its shape and where it may appear.

``reconcile: {shell: CMD}`` is a mapping with exactly the key ``shell``, a non-empty
command (templated at run time like a prompt; its templates are checked with the
step's other templates). It is allowed on every step whose body runs — prompt, skill,
context, pipeline, do_while, for_each, and chain entries — and is an error on
``action:`` steps (gates, join, reload_self), where nothing could be recovered.
Unknown keys inside it are warnings like everywhere else.
"""

from __future__ import annotations

from ail_tui.pipeline.models import Step, StepKind
from ail_tui.pipeline.validation.findings import Findings

RECONCILE_KINDS = "prompt, skill, context, pipeline, do_while, or for_each"


def check_reconcile(step: Step, findings: Findings) -> None:
    """``reconcile`` is a mapping with a non-empty ``shell`` on a step whose body runs."""
    if "reconcile" not in step.model_fields_set:
        return  # absent, or a wrong shape already reported by the loader
    reconcile = step.reconcile
    if reconcile is None:
        findings.error(
            f"{step.label} reconcile must be a mapping with a 'shell' command, not nothing",
            step.key_pos("reconcile"),
            step.id,
        )
        return
    if step.kind is StepKind.ACTION:
        findings.error(
            f"{step.label} (action: {step.action}) declares reconcile, but only a step whose "
            f"body runs ({RECONCILE_KINDS}) can have its result recovered",
            step.key_pos("reconcile"),
            step.id,
        )
    written = reconcile.marks.keys if reconcile.marks is not None else {}
    if "shell" not in reconcile.model_fields_set:
        if "shell" not in written:  # else: a wrong shape, reported by the loader
            findings.error(
                f"{step.label} reconcile must declare 'shell' (the command that recovers "
                "the step's result)",
                step.pos("reconcile"),
                step.id,
            )
        return
    if reconcile.shell is None or not reconcile.shell.strip():
        findings.error(
            f"{step.label} reconcile shell must be a non-empty command",
            reconcile.pos("shell"),
            step.id,
        )
