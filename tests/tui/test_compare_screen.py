"""Comparing two runs from the history (issue 14): ``space`` marks runs, ``d`` compares
two, the compare screen shows their steps and the selected step's response diff."""

from __future__ import annotations

from typing import Any

import pytest
from pilot_waits import until
from test_daily_use import GREET
from textual.widgets import DataTable
from textual.widgets._footer import FooterKey
from turn_records import RUN_STARTED, entry, started, ts, write

from ail_tui.tui.app import AilApp
from ail_tui.tui.screens.compare import CompareScreen
from ail_tui.tui.screens.dialogs import HelpScreen
from ail_tui.tui.screens.history import MARK, HistoryScreen
from ail_tui.turnlog.paths import runs_dir

pytestmark = pytest.mark.timeout(60)

OLD, MIDDLE, NEW = ("0ld00000-0000-4000-8000-000000000000",
                    "m1dd1e00-0000-4000-8000-000000000000",
                    "new00000-0000-4000-8000-000000000000")


def run(start: float, *steps: tuple[str, str]) -> list[dict[str, Any]]:
    """A completed run started at ``start`` whose steps answered as given, 1 s each."""
    records: list[dict[str, Any]] = [{**RUN_STARTED, "at": ts(start)}]
    for number, (step_id, response) in enumerate(steps):
        begin = start + number
        records += [started(step_id, at=ts(begin)),
                    entry(step_id, response=response, cost_usd=0.001, started_at=ts(begin),
                          completed_at=ts(begin + 1))]
    return [*records, {"at": ts(start + len(steps)), "status": "completed",
                       "type": "run_finished"}]


@pytest.fixture
def three_runs(make_app) -> AilApp:
    app = make_app(GREET)
    folder = runs_dir()
    folder.mkdir(parents=True)
    write(folder, run(0, ("plan", "p"), ("review", "fine")), OLD)
    write(folder, run(100, ("plan", "p"), ("review", "fine")), MIDDLE)
    write(folder, run(200, ("plan", "p"), ("review", "not fine"), ("setup", "s")), NEW)
    return app


def notified(app: AilApp, words: str) -> bool:
    return any(words in str(note.message) for note in app._notifications)


def marks(screen: HistoryScreen) -> list[bool]:
    table = screen.query_one(DataTable)
    return [str(table.get_row_at(row)[0]).startswith(MARK) for row in range(table.row_count)]


async def open_history(pilot: Any) -> HistoryScreen:
    await pilot.press("h")
    await until(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen))
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


async def test_mark_two_runs_compare_them_and_read_the_diff(three_runs: AilApp) -> None:
    app = three_runs
    async with app.run_test(size=(160, 40)) as pilot:
        history = await open_history(pilot)
        keys = {key.key_display: key.description for key in history.query(FooterKey)}
        assert keys.get("space") == "Mark to compare" and keys.get("d") == "Compare marked"
        await pilot.press("space", "down", "down", "space")  # the newest and the oldest
        assert marks(history) == [True, False, True]
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        runs = str(screen.query_one("#compare-runs").render())
        assert runs.splitlines()[0].startswith("A 0ld00000")
        assert runs.splitlines()[1].startswith("B new00000")
        table = screen.query_one(DataTable)
        rows = [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]
        assert [(row[0], row[1], row[-1]) for row in rows] == [
            ("plan", "✓ done → ✓ done", "same"),
            ("review", "✓ done → ✓ done", "differs"),
            ("setup", "— → ✓ done", "added")]
        title = screen.query_one("#compare-diff-title")
        assert "Response of plan" in str(title.render())
        assert "the same response" in str(screen.query_one("#compare-diff").render())
        await pilot.press("n")
        await until(pilot, lambda: "Response of review" in str(title.render()))
        diff = str(screen.query_one("#compare-diff").render()).splitlines()
        assert diff == ["--- 0ld00000 review", "+++ new00000 review", "@@ -1 +1 @@",
                        "-fine", "+not fine"]
        await pilot.press("n")
        await until(pilot, lambda: "Response of setup" in str(title.render()))
        await pilot.press("N")
        await until(pilot, lambda: "Response of review" in str(title.render()))
        await pilot.press("k")
        await until(pilot, lambda: "Response of plan" in str(title.render()))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is history)


async def test_d_says_what_to_do_with_fewer_than_two_marks(three_runs: AilApp) -> None:
    app = three_runs
    async with app.run_test(size=(160, 40)) as pilot:
        history = await open_history(pilot)
        await pilot.press("d")
        await until(pilot, lambda: notified(app, "Mark two runs with space"))
        await pilot.press("space")  # one marked, and the cursor on it: still one run
        app.clear_notifications()
        await pilot.press("d")
        await until(pilot, lambda: notified(app, "Mark two runs with space"))
        assert app.screen is history
        await pilot.press("down", "d")  # one marked and another selected: compared
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert (screen.comparison.a.run_id, screen.comparison.b.run_id) == (MIDDLE, NEW)


async def test_a_third_mark_replaces_the_oldest_and_space_unmarks(three_runs: AilApp) -> None:
    app = three_runs
    async with app.run_test(size=(160, 40)) as pilot:
        history = await open_history(pilot)
        await pilot.press("space", "down", "space", "down", "space")
        assert marks(history) == [False, True, True]
        await pilot.press("space")
        assert marks(history) == [False, True, False]


async def test_help_lists_the_history_and_compare_keys(three_runs: AilApp) -> None:
    app = three_runs
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query("Static").last().render())
        for ident in ("history.mark", "history.compare", "compare.next_change",
                      "compare.previous_change", "compare.close"):
            assert ident in text
