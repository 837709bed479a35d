"""Validation reports as text (compiler style) and JSON, for the CLI and the dashboard."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ail_tui.credential_keys import credential_spans, credential_values
from ail_tui.credentials import MASK, SECRETS
from ail_tui.files import MAX_REFERENCED_BYTES, FileReadError, read_file_bytes
from ail_tui.pipeline.diagnostics import Diagnostic
from ail_tui.pipeline.loader import LoadResult
from ail_tui.pipeline.source import Position

_RED, _YELLOW, _BOLD, _CYAN, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[36m", "\x1b[0m"


def display_path(path: str | os.PathLike[str], cwd: Path | None = None) -> str:
    """``path`` relative to the working directory when it lies under it."""
    base = cwd or Path.cwd()
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except (ValueError, OSError):
        return str(path)


def is_unreadable(result: LoadResult) -> bool:
    """Whether the pipeline file itself could not be read (see ``LoadResult.unreadable``)."""
    return bool(result.unreadable)


def report_json(result: LoadResult) -> dict[str, Any]:
    """The CLI contract's JSON: ``{"valid", "errors": [...], "warnings": [...]}``."""
    masks = _Masks(_Sources(), result)
    return {
        "valid": result.valid,
        "errors": [{**d.to_json(), "detail": masks.detail(d)} for d in result.errors],
        "warnings": [{**d.to_json(), "detail": masks.detail(d)} for d in result.warnings],
    }


class _Sources:
    """Source lines of the files findings point into, read once each."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str] | None] = {}

    def line(self, file: str, number: int) -> str | None:
        if file not in self._cache:
            try:
                data = read_file_bytes(file, MAX_REFERENCED_BYTES, "source files")
                self._cache[file] = data.decode("utf-8", errors="replace").splitlines()
            except FileReadError:
                self._cache[file] = None
        lines = self._cache[file]
        if lines is None or not 0 < number <= len(lines):
            return None
        return lines[number - 1]


class _Masks:
    """What a report masks: known secrets, and the credentials written in the files it quotes.

    A value under a credential-looking key (``auth_token``, ``auth_tokn``, ``api_key``, ...)
    is masked on its own line and, once seen, wherever else it appears.
    """

    def __init__(self, sources: _Sources, result: LoadResult | None = None) -> None:
        self._sources = sources
        self._secrets = SECRETS.copy()
        self._secrets.add_environment()
        self._scanned: set[str] = set()
        if result is not None:
            provider = result.pipeline.defaults.provider if result.pipeline else None
            self._secrets.add(provider.auth_token if provider else None)
            for path in result.files:
                self._scan(str(path))

    def _scan(self, file: str) -> None:
        if file in self._scanned:
            return
        self._scanned.add(file)
        number = 1
        while (line := self._sources.line(file, number)) is not None:
            for value in credential_values(line):
                self._secrets.add(value)
            number += 1

    def detail(self, finding: Diagnostic) -> str:
        """The finding's detail with every credential masked."""
        if finding.position is not None:
            self._scan(finding.position.file)
        return self._secrets.redact(finding.detail)

    def source(self, file: str, source: str, column: int) -> tuple[str, int]:
        """A source line of ``file`` with its credentials masked, and where ``column`` went."""
        self._scan(file)
        return _masked(source, credential_spans(source) + self._secrets.spans(source), column)


def _masked(text: str, spans: list[tuple[int, int]], column: int) -> tuple[str, int]:
    """``text`` with each ``(start, end)`` span replaced by the mask, and ``column`` moved."""
    out: list[str] = []
    pos, moved = 0, column
    for start, end in sorted(spans):
        start = max(start, pos)
        if start >= end:
            continue
        out += [text[pos:start], MASK]
        if column - 1 >= end:
            moved -= end - start - len(MASK)
        elif column - 1 > start:
            moved -= column - 1 - start
        pos = end
    out.append(text[pos:])
    return "".join(out), moved


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
    colour: bool = False, masks: _Masks | None = None,
) -> list[str]:
    """A finding as compiler-style lines: ``path:line:col: error[type]: detail`` + source.

    The source excerpt has a caret under the finding's column; when the finding also has a
    context position (where an unclosed ``[`` or quote opened), that line is shown too,
    in file order, with a labelled caret. Credentials are masked in the detail and the
    quoted source lines.
    """
    sources = sources or _Sources()
    masks = masks or _Masks(sources)
    level = "error" if finding.is_error else "warning"
    tint = (_RED if finding.is_error else _YELLOW) if colour else ""
    bold, reset = (_BOLD, _RESET) if colour else ("", "")
    if finding.position is not None:
        where = (f"{display_path(finding.position.file)}:{finding.position.line}:"
                 f"{finding.position.column}")
    else:
        where = pipeline_path
    lines = [f"{bold}{where}:{reset} {tint}{level}[{finding.error_type}]{reset}: "
             f"{masks.detail(finding)}"]
    if finding.position is None:
        return lines
    places: list[tuple[Position, str | None]] = [(finding.position, None)]
    if finding.context_position is not None:
        places.append((finding.context_position, finding.context_label))
    places.sort(key=lambda place: place[0])
    shown_before: tuple[str, int, str] | None = None
    for place, label in places:
        source = sources.line(place.file, place.line)
        if source is None:
            continue
        source, column = masks.source(place.file, source, place.column)
        shown, column = _source_window(source, column)
        gutter = f"{place.line:>5} | "
        if shown_before != (place.file, place.line, shown):  # one line, two carets
            lines.append(gutter + shown)
            shown_before = (place.file, place.line, shown)
        pad = " " * (len(gutter) - 2) + "| "
        lines.append(pad + (_CYAN if colour else "") + _caret_line(shown, column)
                     + (f" {label}" if label else "") + reset)
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
    masks = _Masks(sources, result)
    lines: list[str] = []
    for finding in [*_sorted(result.errors), *_sorted(result.warnings)]:
        lines.extend(format_diagnostic(finding, pipeline_path, sources, colour, masks))
    lines.append(summary_line(result, pipeline_path))
    return "\n".join(lines) + "\n"
