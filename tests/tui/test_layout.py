"""A layout people can shape (issue 14): the split between the steps table and the panes
(``<`` ``>`` ``=`` and dragging the divider), ``z`` to maximize the table or the panes,
and a narrow terminal (80×24) that stacks the table above the panes and keeps the
essential keys in the footer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pilot_waits import until
from textual.widgets._footer import FooterKey

from ail_tui.runners.registry import RunnerFactory
from ail_tui.runners.stub import StubScript
from ail_tui.tui.app import AilApp
from ail_tui.tui.layout import LEAST_PANES_COLUMNS, LEAST_TABLE_COLUMNS, STEP_COLUMNS

pytestmark = pytest.mark.timeout(90)

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_pipelines"
ESSENTIAL = ("? Help", "q Quit", "r Run", "c Cancel run", "x Cancel step", "t Next pane",
             "z Maximize", "<", ">")


@pytest.fixture
def ci_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AilApp:
    """The dashboard on the bundled CI sample, offline (its shell steps run from the
    repository root, as the sample says)."""
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(REPO)
    script = StubScript.model_validate(
        yaml.safe_load((SAMPLES / "stub_script.yaml").read_text(encoding="utf-8")))
    return AilApp(SAMPLES / "ci_checks.ail.yaml", runner="stub", watch_files=False,
                  runners=RunnerFactory(stub_script=script))


def footer_keys(app: AilApp) -> list[str]:
    """The footer's keys ("key description") wholly on screen."""
    return [f"{key.key_display} {key.description}".strip()
            for key in app.screen.query(FooterKey)
            if key.display and key.region.width and key.region.right <= app.size.width]


def header(app: AilApp) -> str:
    """The steps table's header line as drawn."""
    return app.table.render_line(0).text


def table_width(app: AilApp) -> int:
    return app.table.outer_size.width


async def run_to_end(pilot, app: AilApp) -> None:
    await until(pilot, lambda: app.pipeline is not None)
    await pilot.press("r")
    await until(pilot, lambda: app.view.finished_at is not None, timeout=30)
    await pilot.pause()


async def test_the_default_split_shows_every_column_of_the_table(ci_checks: AilApp) -> None:
    app = ci_checks
    async with app.run_test(size=(200, 50)) as pilot:
        await run_to_end(pilot, app)
        await until(pilot, lambda: table_width(app) == app.table.full_width())
        # Every column uncut, the panes right of the divider with the rest.
        assert header(app).split() == ["status", "step", "kind", "elapsed", "try", "cost",
                                       "tokens", "model", "group", "launched", "started",
                                       "done"]
        splitter = app.screen.query_one("#splitter")
        assert splitter.region.x == app.table.full_width() and splitter.region.width == 1
        assert app.tabs.region.x == splitter.region.right
        assert app.tabs.region.right == 200


async def test_less_and_greater_move_the_split_within_bounds(ci_checks: AilApp) -> None:
    app = ci_checks
    async with app.run_test(size=(120, 30)) as pilot:
        await run_to_end(pilot, app)
        await pilot.pause()
        start = table_width(app)
        await pilot.press("<")
        await until(pilot, lambda: table_width(app) == start - STEP_COLUMNS)
        await pilot.press(">", ">")
        await until(pilot, lambda: table_width(app) == start + STEP_COLUMNS)
        assert app.tabs.region.x == start + STEP_COLUMNS + 1  # the divider between
        # Enough presses to pass each bound, and no more (each press draws a frame).
        narrower = -(-(table_width(app) - LEAST_TABLE_COLUMNS) // STEP_COLUMNS) + 1
        await pilot.press(*"<" * narrower)
        await until(pilot, lambda: table_width(app) == LEAST_TABLE_COLUMNS)
        assert header(app).split()[:2] == ["status", "step"]  # the table stays in sight
        wider = -(-(app.tabs.outer_size.width - LEAST_PANES_COLUMNS) // STEP_COLUMNS) + 1
        await pilot.press(*">" * wider)
        await until(pilot, lambda: app.tabs.outer_size.width == LEAST_PANES_COLUMNS)
        await pilot.press("=")
        await until(pilot, lambda: table_width(app) == start)


async def test_dragging_the_divider_moves_the_split(ci_checks: AilApp) -> None:
    app = ci_checks
    async with app.run_test(size=(160, 40)) as pilot:
        await run_to_end(pilot, app)
        await pilot.pause()
        y = app.table.region.y + 5
        assert app.get_widget_at(table_width(app), y)[0].id == "splitter"
        await pilot.mouse_down("#splitter", offset=(0, 5))
        await pilot.hover(None, offset=(70, y))
        await pilot.hover(None, offset=(60, y + 3))  # the pointer may leave the bar
        await pilot.mouse_up(None, offset=(60, y + 3))
        await until(pilot, lambda: table_width(app) == 60)
        assert app.tabs.region.x == 61
        await pilot.hover(None, offset=(90, y))  # released: moving no longer drags
        await pilot.pause()
        assert table_width(app) == 60


async def test_z_maximizes_the_table_and_escape_or_z_restores_it(ci_checks: AilApp) -> None:
    app = ci_checks
    async with app.run_test(size=(100, 30)) as pilot:
        await run_to_end(pilot, app)
        await until(pilot, lambda: 0 < table_width(app) < 100)
        split, columns = table_width(app), header(app).split()
        assert "done" not in columns  # too narrow for the clock times
        await pilot.press("z")
        await until(pilot, lambda: app.screen.maximized is app.table)
        await until(pilot, lambda: table_width(app) == 100)
        # A real full-screen table: no hatching around it, more of its columns drawn.
        assert str(app.screen.styles.hatch) == "none"
        assert "done" in header(app) and len(header(app).split()) > len(columns)
        assert not app.tabs.region and not app.screen.query_one("#splitter").region
        await until(pilot, lambda: "z Maximize" in footer_keys(app))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen.maximized is None and table_width(app) == split)
        await pilot.press("z")
        await until(pilot, lambda: table_width(app) == 100)
        await pilot.press("z")
        await until(pilot, lambda: app.screen.maximized is None and table_width(app) == split)


async def test_z_in_the_panes_maximizes_the_pane_shown(ci_checks: AilApp) -> None:
    app = ci_checks
    async with app.run_test(size=(100, 30)) as pilot:
        await run_to_end(pilot, app)
        await pilot.press("t")  # the output of the failed step, selected at the end
        await until(pilot, lambda: app.tabs.active == "tab-output")
        app.output_view.focus()
        await pilot.press("z")
        await until(pilot, lambda: app.screen.maximized is app.tabs)
        await until(pilot, lambda: app.output_view.region.width >= 98)
        assert not app.table.region
        await pilot.press("t")  # the panes still cycle while maximized
        await until(pilot, lambda: app.tabs.active == "tab-details")
        assert app.details.region.width >= 96
        await pilot.press("escape")
        await until(pilot, lambda: app.screen.maximized is None and app.table.region)


async def test_an_80_column_terminal_stacks_the_table_and_keeps_the_essential_keys(
        ci_checks: AilApp) -> None:
    app = ci_checks
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.pipeline is not None)
        await pilot.press("r")
        await until(pilot, lambda: app.view.running and "c Cancel run" in footer_keys(app))
        keys = footer_keys(app)
        assert all(key in keys for key in ESSENTIAL), keys
        assert app.screen.has_class("-narrow")
        # The table above the panes, as wide as the screen, its key columns in sight.
        assert app.table.region.width == 80
        assert app.table.region.bottom < app.tabs.region.y
        assert header(app).split()[:4] == ["status", "step", "kind", "elapsed"]
        await until(pilot, lambda: app.view.finished_at is not None, timeout=30)
        await until(pilot, lambda: app.table.region.height == len(app.view.rows) + 1)
        height = app.table.region.height
        await pilot.press("<")
        await until(pilot, lambda: app.table.region.height == height - 2)
        await pilot.press(">", ">")
        await until(pilot, lambda: app.table.region.height == height + 2)
        await pilot.press("=")
        await until(pilot, lambda: app.table.region.height == height)
        # Stacked, the divider is a line: dragging it down gives the table more lines.
        divider = app.screen.query_one("#splitter").region
        assert divider.width == 80 and divider.y == app.table.region.bottom
        await pilot.mouse_down("#splitter", offset=(10, 0))
        await pilot.hover(None, offset=(10, divider.y + 3))
        await pilot.mouse_up(None, offset=(10, divider.y + 3))
        await until(pilot, lambda: app.table.region.height == height + 3)


async def test_the_done_when_walk_at_80_by_24_uses_only_keys_the_footer_shows(
        ci_checks: AilApp) -> None:
    """Run, cancel a branch, read the failed step's error, resize, maximize, quit."""
    app = ci_checks
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.pipeline is not None and "r Run" in footer_keys(app))
        await pilot.press("r")
        await until(pilot, lambda: app.view.rows.get("smoke") is not None
                    and app.view.rows["smoke"].status in ("queued", "waiting")
                    and app.view.running)
        while app.table.selected_step != "smoke":  # arrows select a step
            await pilot.press("down")
        await until(pilot, lambda: "x Cancel step" in footer_keys(app))
        await pilot.press("x")
        await until(pilot, lambda: app.view.rows["smoke"].status == "cancelled")
        await until(pilot, lambda: app.view.finished_at is not None, timeout=30)
        # The failed step is selected at the end; t shows its output, error first.
        await until(pilot, lambda: app.table.selected_step == "preview")
        await until(pilot, lambda: "t Next pane" in footer_keys(app))
        await pilot.press("t")
        await until(pilot, lambda: app.tabs.active == "tab-output")
        await until(pilot, lambda: "timed out after 2 s" in output_text(app))
        height = app.table.region.height
        await pilot.press("<")
        await until(pilot, lambda: app.table.region.height == height - 2)
        await pilot.press(">")
        await until(pilot, lambda: app.table.region.height == height)
        await pilot.press("z")
        await until(pilot, lambda: app.table.region.size == (80, 21))
        await until(pilot, lambda: {"z Maximize", "q Quit"} <= set(footer_keys(app)))
        await pilot.press("z")
        await until(pilot, lambda: app.table.region.height == height)
        await pilot.press("q")
        await until(pilot, lambda: app.return_code is not None)


def output_text(app: AilApp) -> str:
    """The output pane's lines as drawn."""
    view = app.output_view
    return "\n".join(view.render_line(y).text for y in range(view.size.height))
