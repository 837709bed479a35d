"""The validation pane: every error and warning at its line:column, with the source line."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ail_tui.pipeline.loader import LoadResult
from ail_tui.report import display_path, format_diagnostic


def render_problems(result: LoadResult | None, pipeline_path: str) -> Text:
    """Findings in file order, errors first, each with its source line and caret."""
    if result is None:
        return Text("Validating…", style="dim")
    if not result.diagnostics:
        return Text(f"✓ {display_path(pipeline_path)} is valid — no problems.", style="green")
    out = Text()
    for finding in [*result.errors, *result.warnings]:
        lines = format_diagnostic(finding, display_path(pipeline_path))
        style = "red" if finding.is_error else "yellow"
        out.append(lines[0] + "\n", style=style)
        for extra in lines[1:]:
            out.append(extra + "\n", style="dim")
    return out


def render_no_pipeline(shown: str) -> Text:
    """No pipeline file is open, only ``shown`` (a log, a run): nothing to validate."""
    return Text(f"No pipeline file open — this dashboard shows {shown} only, so there is "
                "nothing to validate (ail-tui PIPELINE opens a pipeline).", style="dim")


class Problems(Static):
    """Errors and warnings of the last validation."""

    DEFAULT_CSS = "Problems { height: auto; }"
