"""The status bar: pipeline and verdict, run and state, counts, tokens, cost, warnings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from fractions import Fraction
from itertools import islice

from rich.text import Text
from textual.widgets import Static

from ail_tui.engine import events as ev
from ail_tui.pipeline.loader import LoadResult
from ail_tui.tui.run_view import GLYPH, RunView, StepRow

COUNTED = ("running", "queued", "waiting", "done", "reused", "reconciled", "failed",
           "cancelled", "skipped")


class RunTotals:
    """A run's steps by status, tokens and cost, kept up to date from the rows that
    changed (:meth:`update`), so a redraw during a storm does not sum every row."""

    def __init__(self) -> None:
        self._view: RunView | None = None
        self._marks: tuple[object, ...] = ()
        self._clear()

    def _clear(self) -> None:
        self.counts: Counter[str] = Counter()
        """Steps by status."""
        self.tokens_in = self.tokens_out = 0
        self._cost = Fraction(0)  # exact: a row's cost taken back leaves no rounding
        self._seen: dict[str, tuple[str, int, int, float]] = {}
        """What each row added to the sums."""

    @classmethod
    def of(cls, view: RunView) -> RunTotals:
        """The totals of every row of ``view``."""
        totals = cls()
        totals.update(view, ())
        return totals

    @property
    def cost(self) -> float:
        """The run's cost so far."""
        return float(self._cost)

    def update(self, view: RunView, changed: Iterable[str]) -> None:
        """Take in ``view`` after the rows ``changed`` did (any order, more than once).

        Rows added since are taken in too. Every row is counted again for another view,
        and when the run starts or ends or the questions waiting change: then rows
        change that no event names (the run's end closes the open ones; an answer in
        the dashboard moves its step from waiting)."""
        rows = view.rows
        marks = (view.run_id, view.started_at, view.finished_at, tuple(view.questions))
        if view is not self._view or marks != self._marks or len(rows) < len(self._seen):
            self._clear()
            self._view, self._marks = view, marks
        for step_id in islice(rows, len(self._seen), None):
            self._take(rows[step_id])
        for step_id in changed:
            row = rows.get(step_id)
            if row is not None:
                self._take(row)

    def _take(self, row: StepRow) -> None:
        new = (row.status, row.input_tokens, row.output_tokens, row.cost_usd or 0.0)
        old = self._seen.get(row.step_id)
        if old == new:
            return
        if old is not None:
            self._add(old, -1)
        self._add(new, 1)
        self._seen[row.step_id] = new

    def _add(self, part: tuple[str, int, int, float], sign: int) -> None:
        status, tokens_in, tokens_out, cost = part
        self.counts[status] += sign
        self.tokens_in += sign * tokens_in
        self.tokens_out += sign * tokens_out
        if cost:
            self._cost += sign * Fraction(cost)


def status_text(name: str, result: LoadResult | None, validated_at: float, view: RunView,
                now: float, *, changed: bool = False, missing: tuple[str, ...] = (),
                totals: RunTotals | None = None) -> Text:
    """The bar's text. ``changed``: a new version of the pipeline was saved since the run
    on screen started (it stays on screen; the next run runs the new version);
    ``missing``: runners the pipeline needs that cannot run here; ``totals``: the
    view's, kept up to date (None: summed now)."""
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
    totals = totals or RunTotals.of(view)
    counts = totals.counts
    for state in COUNTED:
        if counts.get(state):
            text.append(f"  {GLYPH[state]}{counts[state]} {state}")
    tokens_in, tokens_out = totals.tokens_in, totals.tokens_out
    if tokens_in or tokens_out:
        text.append(f"  {tokens_in:,}/{tokens_out:,} tok")
    if totals.cost:
        text.append(f"  ${totals.cost:.4f}")
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

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.totals = RunTotals()
        """The sums of the run shown, kept up to date by whoever shows it."""

    def show(self, text: Text) -> None:
        """Show ``text``; the screen is only re-laid out when the bar's height changes.

        (A re-layout of the whole screen costs far more than the bar itself.)
        """
        height = 1 if text.cell_len <= max(self.size.width, 1) else 2
        self.update(text, layout=height != self._height)
        self._height = height
