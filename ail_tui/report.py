"""Validation reports as text (compiler style) and JSON, for the CLI and the dashboard."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ail_tui.pipeline.diagnostics import Diagnostic, ErrorType
from ail_tui.pipeline.loader import LoadResult

_RED, _YELLOW, _BOLD, _CYAN, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[36m", "\x1b[0m"


def display_path(path: str | os.PathLike[str], cwd: Path | None = None) -> str:
    """``path`` relative to the working directory when it lies under it."""
    base = cwd or Path.cwd()
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except (ValueError, OSError):
        return str(path)


def is_unreadable(result: LoadResult) -> bool:
    """Whether the pipeline file itself could not be read (missing, a directory, not UTF-8).

    A missing FROM base or another referenced file is a positioned finding in a file
    that was read, so it makes the pipeline invalid, not unreadable.
    """
    return result.pipeline is None and any(
        d.error_type == ErrorType.FILE_NOT_FOUND and d.position is None
        for d in result.diagnostics
    )


def report_json(result: LoadResult) -> dict[str, Any]:
    """The CLI contract's JSON: ``{"valid", "errors": [...], "warnings": [...]}``."""
    return {
        "valid": result.valid,
        "errors": [d.to_json() for d in result.errors],
        "warnings": [d.to_json() for d in result.warnings],
    }


class _Sources:
    """Source lines of the files findings point into, read once each."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str] | None] = {}

    def line(self, file: str, number: int) -> str | None:
        if file not in self._cache:
            try:
                text = Path(file).read_text(encoding="utf-8", errors="replace")
                self._cache[file] = text.splitlines()
            except OSError:
                self._cache[file] = None
        lines = self._cache[file]
        if lines is None or not 0 < number <= len(lines):
            return None
        return lines[number - 1]


_SOURCE_WIDTH = 120  # longer source lines are shown as a window around the column


def _cells(ch: str) -> str:
    """Blank space as wide on a terminal as ``ch`` (tabs kept, wide characters doubled)."""
    if ch == "\t":
        return "\t"
    return "  " if unicodedata.east_asian_width(ch) in ("W", "F") else " "


def _source_window(source: str, column: int) -> tuple[str, int]:
    """``source`` cut to about ``_SOURCE_WIDTH`` characters around ``column``.

    Returns the text to show and the column within it; cut ends are marked with ``…``.
    """
    if len(source) <= _SOURCE_WIDTH:
        return source, column
    start = max(0, min(column - 1 - _SOURCE_WIDTH // 2, len(source) - _SOURCE_WIDTH))
    end = start + _SOURCE_WIDTH
    head = "…" if start > 0 else ""
    tail = "…" if end < len(source) else ""
    return head + source[start:end] + tail, column - start + len(head)


def _caret_line(source: str, column: int) -> str:
    """Blank space up to ``column`` (1-based, in characters), then a caret."""
    before = source[: column - 1]
    return "".join(_cells(ch) for ch in before) + " " * (column - 1 - len(before)) + "^"


def format_diagnostic(
    finding: Diagnostic, pipeline_path: str, sources: _Sources | None = None,
    colour: bool = False,
) -> list[str]:
    """A finding as compiler-style lines: ``path:line:col: error[type]: detail`` + source."""
    sources = sources or _Sources()
    level = "error" if finding.is_error else "warning"
    tint = (_RED if finding.is_error else _YELLOW) if colour else ""
    bold, reset = (_BOLD, _RESET) if colour else ("", "")
    if finding.position is not None:
        where = (f"{display_path(finding.position.file)}:{finding.position.line}:"
                 f"{finding.position.column}")
    else:
        where = pipeline_path
    lines = [f"{bold}{where}:{reset} {tint}{level}[{finding.error_type}]{reset}: "
             f"{finding.detail}"]
    if finding.position is not None:
        source = sources.line(finding.position.file, finding.position.line)
        if source is not None:
            shown, column = _source_window(source, finding.position.column)
            gutter = f"{finding.position.line:>5} | "
            lines.append(gutter + shown)
            pad = " " * (len(gutter) - 2) + "| "
            lines.append(pad + (_CYAN if colour else "")
                         + _caret_line(shown, column) + reset)
    return lines


def _sorted(findings: Iterable[Diagnostic]) -> list[Diagnostic]:
    def key(d: Diagnostic) -> tuple[str, int, int]:
        p = d.position
        return (p.file, p.line, p.column) if p else ("", 0, 0)

    return sorted(findings, key=key)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_line(result: LoadResult, pipeline_path: str) -> str:
    """One line: ``path: valid`` / ``path: invalid — 2 errors, 1 warning``."""
    if is_unreadable(result):
        return f"{pipeline_path}: not checked — the file could not be read"
    errors, warnings = len(result.errors), len(result.warnings)
    if result.valid:
        return f"{pipeline_path}: valid" + (f" ({_count(warnings, 'warning')})" if warnings
                                            else "")
    parts = [_count(errors, "error")] + ([_count(warnings, "warning")] if warnings else [])
    return f"{pipeline_path}: invalid — {', '.join(parts)}"


def report_text(result: LoadResult, pipeline_path: str, colour: bool = False) -> str:
    """Every finding (errors first, each in file order) and the summary line."""
    sources = _Sources()
    lines: list[str] = []
    for finding in [*_sorted(result.errors), *_sorted(result.warnings)]:
        lines.extend(format_diagnostic(finding, pipeline_path, sources, colour))
    lines.append(summary_line(result, pipeline_path))
    return "\n".join(lines) + "\n"
