"""The collector that validation rules report into."""

from __future__ import annotations

from dataclasses import dataclass, field

from ail_tui.pipeline.diagnostics import Diagnostic, ErrorType, Severity
from ail_tui.pipeline.source import Position


@dataclass
class Findings:
    """Diagnostics gathered by the rules, in the order they were found."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(
        self,
        detail: str,
        position: Position | None,
        step_id: str | None = None,
        error_type: str = ErrorType.VALIDATION_FAILED,
    ) -> None:
        """Report a finding that makes the pipeline invalid."""
        self.items.append(Diagnostic(error_type, detail, position, step_id))

    def warning(
        self,
        detail: str,
        position: Position | None,
        step_id: str | None = None,
        error_type: str = ErrorType.VALIDATION_FAILED,
    ) -> None:
        """Report a finding that does not make the pipeline invalid."""
        self.items.append(Diagnostic(error_type, detail, position, step_id, Severity.WARNING))
