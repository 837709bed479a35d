"""Checking pipeline texts in tests: write one, validate it, find a finding's place."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ail_tui.pipeline.diagnostics import Diagnostic
from ail_tui.pipeline.loader import LoadResult
from ail_tui.pipeline.validation import check_file


def check(tmp_path: Path, body: str, name: str = "p.ail.yaml") -> LoadResult:
    """Validate ``body`` (dedented) written as ``tmp_path/name``."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return check_file(path)


def assert_at(finding: Diagnostic, error_type: str, line: int, column: int) -> None:
    """``finding`` has ``error_type`` and is reported at ``line``:``column``."""
    assert finding.error_type == error_type
    assert finding.position is not None
    assert (finding.position.line, finding.position.column) == (line, column)
