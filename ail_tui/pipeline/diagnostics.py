"""Validation findings: stable ``error_type`` values and positioned diagnostics."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ail_tui.pipeline.source import Position


class ErrorType(StrEnum):
    """The stable ``error_type`` strings of the AIL runtime (brief §13)."""

    INVALID_YAML = "ail:config/invalid-yaml"
    FILE_NOT_FOUND = "ail:config/file-not-found"
    VALIDATION_FAILED = "ail:config/validation-failed"
    CIRCULAR_INHERITANCE = "ail:config/circular-inheritance"
    UNRESOLVED_VARIABLE = "ail:template/unresolved-variable"
    CONDITION_INVALID = "ail:condition/invalid"
    RUNNER_INVOCATION_FAILED = "ail:runner/invocation-failed"
    RUNNER_CANCELLED = "ail:runner/cancelled"
    RUNNER_NOT_FOUND = "ail:runner/not-found"
    RUNNER_AUTH_FAILED = "ail:runner/auth-failed"
    RUNNER_RATE_LIMITED = "ail:runner/rate-limited"
    RUNNER_OVERLOADED = "ail:runner/overloaded"
    RUNNER_BUDGET_EXCEEDED = "ail:runner/budget-exceeded"
    RUNNER_MAX_TURNS = "ail:runner/max-turns"
    RUNNER_REFUSED_AS_ROOT = "ail:runner/refused-as-root"
    RECONCILE_FAILED = "ail:runner/reconcile-failed"
    PIPELINE_ABORTED = "ail:pipeline/aborted"
    CIRCULAR_REFERENCE = "ail:pipeline/circular-reference"
    RELOAD_FAILED = "ail:pipeline/reload-failed"
    SKILL_UNKNOWN = "ail:skill/unknown"
    DO_WHILE_EXHAUSTED = "ail:do-while/max-iterations-exceeded"
    LOOP_DEPTH_EXCEEDED = "ail:loop/depth-exceeded"
    OUTPUT_VALIDATION_FAILED = "ail:schema/output-validation-failed"
    INPUT_VALIDATION_FAILED = "ail:schema/input-validation-failed"
    SCHEMA_COMPATIBILITY_FAILED = "ail:schema/compatibility-failed"
    FOR_EACH_SOURCE_INVALID = "ail:for-each/source-invalid"
    UNKNOWN_KEY = "ail:config/unknown-key"
    STORAGE_WRITE_FAILED = "ail:storage/write-failed"
    INTERNAL_ERROR = "ail:runtime/internal-error"


class Severity(StrEnum):
    """Errors make a pipeline invalid; warnings never do."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about a pipeline, at a place in a file when that place is known.

    ``context_position`` is a second place the finding points back to, named for a caret
    there by ``context_label``: where an unclosed ``[``, ``{`` or quote opened when the YAML
    parser gave up at ``position``.
    """

    error_type: str
    detail: str
    position: Position | None = None
    step_id: str | None = None
    severity: Severity = Severity.ERROR
    context_position: Position | None = None
    context_label: str | None = None

    @property
    def is_error(self) -> bool:
        """Whether this finding makes the pipeline invalid."""
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON form: error_type, detail, and step_id/file/line/column when known.

        ``context_line``/``context_column`` are added when there is a context position (in
        the same file as ``file``).
        """
        out: dict[str, Any] = {"error_type": self.error_type, "detail": self.detail}
        if self.step_id is not None:
            out["step_id"] = self.step_id
        if self.position is not None:
            out["file"] = self.position.file
            out["line"] = self.position.line
            out["column"] = self.position.column
        if self.context_position is not None:
            out["context_line"] = self.context_position.line
            out["context_column"] = self.context_position.column
        return out

    def display(self) -> str:
        """The runtime's display form, ``[<error_type>] <detail>``."""
        return f"[{self.error_type}] {self.detail}"
