"""The status bar: pipeline and verdict, run and state, counts, tokens, cost, warnings."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from ail_tui.engine import events as ev
from ail_tui.pipeline.loader import LoadResult
from ail_tui.tui.run_view import GLYPH, RunView

COUNTED = ("running", "queued", "waiting", "done", "reused", "reconciled", "failed",
           "cancelled", "skipped")


def status_text(name: str, result: LoadResult | None, validated_at: float, view: RunView,
                now: float, *, changed: bool = False, missing: tuple[str, ...] = ()) -> Text:
    """The bar's text. ``changed``: a new version of the pipeline was saved since the run
    on screen started (it stays on screen; the next run runs the new version);
    ``missing``: runners the pipeline needs that cannot run here."""
    text = Text()
    text.append(" ail-tui ", style="bold reverse")
    text.append(f" {name} ")
    if result is not None:
        saved = datetime.fromtimestamp(validated_at).strftime("%H:%M:%S")
        if result.valid:
            text.append(f"✓ valid ({saved})", style="green")
        else:
            text.append(f"✗ invalid: {len(result.errors)} error(s) ({saved})",
                        style="bold red")
    if view.run_id:
        text.append(f"  run {view.run_id[:8]} ", style="bold")
        if view.resumed:
            text.append("resumed ", style="bold")
        text.append(view.state, style="cyan" if view.running else (
            "green" if view.state in ("completed", "break") else "red"))
        if view.started_at:
            text.append(f" {(view.finished_at or now) - view.started_at:5.1f}s")
    counts = view.counts()
    for state in COUNTED:
        if counts.get(state):
            text.append(f"  {GLYPH[state]}{counts[state]} {state}")
    tokens_in, tokens_out = view.total_tokens()
    if tokens_in or tokens_out:
        text.append(f"  {tokens_in:,}/{tokens_out:,} tok")
    if view.total_cost:
        text.append(f"  ${view.total_cost:.4f}")
    if changed and view.running:
        text.append("  ⟳ pipeline changed since this run started — the new version runs "
                    "next: r once this run ends (c cancels it)", style="yellow")
    elif changed and view.run_id:
        text.append("  ⟳ pipeline changed since this run — r runs the new version (see Plan)",
                    style="yellow")
    if view.questions:
        first = next(iter(view.questions.values()))
        what = (f"permission for {first.tool_name}" if isinstance(first, ev.PermissionRequested)
                else "gate")
        more = f" +{len(view.questions) - 1}" if len(view.questions) > 1 else ""
        text.append(f"  ⏸ {what} waiting ({first.step_id}){more} — g to answer",
                    style="magenta")
    if missing and not view.running:
        text.append(f"  ⚠ unavailable runner: {', '.join(missing)} (see Plan)", style="yellow")
    return text


class StatusBar(Static):
    """One line, two when it wraps."""

    _height = 0

    def show(self, text: Text) -> None:
        """Show ``text``; the screen is only re-laid out when the bar's height changes.

        (A re-layout of the whole screen costs far more than the bar itself.)
        """
        height = 1 if text.cell_len <= max(self.size.width, 1) else 2
        self.update(text, layout=height != self._height)
        self._height = height
