"""The dashboard in a real 80×24 terminal (issue 14): run the CI sample, cancel a branch,
read the failed step's error, move the split, maximize and quit — with keys the footer
shows (and the arrows that select a step)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tmux_session import ROOT, Tmux, needs_tmux, program

pytestmark = needs_tmux


def wait_until(term: Tmux, holds: Callable[[list[str]], bool], what: str,
               timeout: float = 20.0) -> list[str]:
    """The screen's lines once ``holds`` them (polled until ``timeout``)."""
    return term.wait_screen(lambda screen: holds(screen.splitlines()), what,
                            timeout).splitlines()


def row(lines: list[str], step: str) -> str:
    """The steps table's line of ``step`` ("" if none): glyph, status, step, …"""
    return next((line for line in lines if line.split()[2:3] == [step]), "")


def tabs_line(lines: list[str]) -> int:
    """Which line the pane tabs are on (-1: not shown)."""
    return next((i for i, line in enumerate(lines) if "Timeline" in line and "Output" in line),
                -1)


def footer_shows(*keys: str) -> Callable[[list[str]], bool]:
    return lambda lines: bool(lines) and all(key in lines[-1] for key in keys)


def test_run_cancel_read_resize_maximize_quit_at_80_by_24(tmp_path: Path) -> None:
    term = Tmux(tmp_path)
    try:
        term.start(program(ROOT, tmp_path, "sample_pipelines/ci_checks.ail.yaml",
                           "--stub-script", "sample_pipelines/stub_script.yaml"),
                   width=80, height=24)
        wait_until(term, lambda s: "✓ valid" in "\n".join(s)
                   and any(line.split()[:2] == ["status", "step"] and "elapsed" in line
                           for line in s)
                   and footer_shows("? Help", "q Quit", "r Run", "t Next pane",
                                    "z Maximize", "< > Resize")(s),
                   "the verdict, the table's status, step and elapsed, the footer's keys")

        term.keys("r")
        wait_until(term, lambda s: any(w in row(s, "smoke") for w in ("queued", "waiting"))
                   and footer_shows("c Cancel run", "x Cancel step")(s),
                   "smoke waiting for preview, the run controls in the footer")
        term.keys("Down", "Down", "Down", "Down", "x")  # lint → … → smoke, cancel it
        wait_until(term, lambda s: "cancelled" in row(s, "smoke"), "smoke cancelled")
        lines = wait_until(term, lambda s: "esc close" in "\n".join(s) or (
            "failed" in row(s, "preview") and "completed" in "\n".join(s)),
            "the run's end", timeout=30)
        if "esc close" in "\n".join(lines):  # the run's summary, if it opens at the end
            term.keys("Escape")
        wait_until(term, lambda s: "failed" in row(s, "preview")
                   and "completed" in "\n".join(s), "the run's end in the table")

        # The failed step is selected: t shows its output, its error on top.
        wait_until(term, footer_shows("t Next pane"), "t in the footer")
        term.keys("t")
        wait_until(term, lambda s: "timed out after 2 s" in "\n".join(s), "preview's error")

        tabs = tabs_line(term.screen().splitlines())
        term.keys("<")
        wait_until(term, lambda s: tabs_line(s) == tabs - 2, "a smaller table")
        term.keys(">", ">")
        wait_until(term, lambda s: tabs_line(s) == tabs + 2, "a bigger table")
        term.keys("=")
        wait_until(term, lambda s: tabs_line(s) == tabs, "the split as it was")

        term.keys("z")
        wait_until(term, lambda s: tabs_line(s) == -1 and "summary" in row(s, "summary"),
                   "the table filling the screen")
        wait_until(term, footer_shows("z Maximize", "q Quit"), "z and q in the footer")
        term.keys("z")
        wait_until(term, lambda s: tabs_line(s) == tabs, "the panes back")

        term.keys("q")
        term.wait_exited()
    finally:
        term.close()
