"""The steps table as a tree (issue 14): inner steps under their parent, folding with
space/left/right and the mouse, filters by status (v) and name (f), and columns that
fit their content."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_waits import start_run, until
from textual.app import App, ComposeResult
from turn_records import entry, started, write

from ail_tui.engine import events as ev
from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.runners.registry import RunnerFactory
from ail_tui.tui.app import AilApp
from ail_tui.tui.child_runs import child_rows
from ail_tui.tui.run_view import RunView
from ail_tui.tui.widgets.step_name_filter import StepNameFilter
from ail_tui.tui.widgets.steps_table import StepsTable

pytestmark = pytest.mark.timeout(60)

TREE = """
    version: "1"
    pipeline:
      - id: plan
        prompt: "Plan"
        before: ["Collect the issues"]
        then: ["Summarise"]
      - id: polish
        do_while:
          max_iterations: 2
          exit_when: "{{ step.lint.exit_code }} == 0"
          steps:
            - id: lint
              context: {shell: "echo ok"}
            - id: note
              prompt: "note"
      - id: sub
        pipeline: ./child.ail.yaml
      - id: ship
        prompt: "ship it"
    """
CHILD = ('version: "1"\npipeline:\n  - id: fetch\n    context: {shell: "echo fetched"}\n'
         '  - id: check\n    context: {shell: "echo checked"}\n')
SCRIPT = {"steps": {"ship": {"error": "the registry is down"}}}
TREE_ORDER = ["plan", "plan::before::0", "plan::then::0", "polish", "polish::lint",
              "polish::note", "sub", "sub::fetch", "sub::check", "ship"]


@pytest.fixture
def tree_app(make_app, tmp_path: Path) -> AilApp:
    (tmp_path / "child.ail.yaml").write_text(CHILD, encoding="utf-8")
    app: AilApp = make_app(TREE, script=SCRIPT, watch_files=False)
    return app


async def run_to_the_end(pilot, app: AilApp) -> None:
    await start_run(pilot, app)
    await until(pilot, lambda: app.view.state == "failed"
                and app.table.shown_ids == TREE_ORDER)


def line(app: AilApp, y: int) -> str:
    return app.table.render_line(y).text


async def test_inner_and_sub_pipeline_steps_sit_under_their_parent(tree_app: AilApp) -> None:
    app = tree_app
    async with app.run_test(size=(200, 40)) as pilot:
        await run_to_the_end(pilot, app)  # the child run's rows, read from its log
        assert app.table.get_cell("plan::before::0", "step") == "├─ before::0"
        assert app.table.get_cell("sub::check", "step") == "└─ check"
        assert app.table.get_cell("sub", "step") == "▾ sub [2/2 ✓]"
        assert app.table.get_cell("sub::fetch", "kind") == "shell"
        assert app.table.get_cell("sub::fetch", "status") == "✓ done"


async def test_a_replayed_log_shows_the_sub_pipeline_under_its_step(
        tree_app: AilApp) -> None:
    async with tree_app.run_test(size=(200, 40)) as pilot:
        await run_to_the_end(pilot, tree_app)
    log = tree_app.view.log_path
    assert log is not None
    replay = AilApp(None, replay=RecordedRun.read(log), runners=RunnerFactory(),
                    watch_files=False)
    async with replay.run_test(size=(200, 40)) as pilot:
        await until(pilot, lambda: replay.table.shown_ids == TREE_ORDER)
        assert replay.table.get_cell("sub::fetch", "status") == "✓ done"


async def test_space_left_and_right_fold_and_move_to_the_parent(tree_app: AilApp) -> None:
    app = tree_app
    async with app.run_test(size=(200, 40)) as pilot:
        await run_to_the_end(pilot, app)
        table = app.table
        table.select_step("sub")
        await pilot.press("space")
        assert table.shown_ids == [s for s in TREE_ORDER if not s.startswith("sub::")]
        assert table.get_cell("sub", "step") == "▸ sub [2/2 ✓]"
        await pilot.press("space")
        assert table.shown_ids == TREE_ORDER
        await pilot.press("left")  # an open parent folds
        assert "sub::fetch" not in table.shown_ids
        await pilot.press("right")
        assert table.shown_ids == TREE_ORDER
        table.select_step("polish::note")
        await pilot.press("left")  # a step with nothing inside: to its parent
        assert table.selected_step == "polish"
        await pilot.press("left", "left")  # folds it; then (top level) stays
        assert (table.selected_step, "polish::lint" in table.shown_ids) == ("polish", False)


async def test_a_click_on_the_fold_glyph_folds(tree_app: AilApp) -> None:
    app = tree_app
    async with app.run_test(size=(200, 40)) as pilot:
        await run_to_the_end(pilot, app)
        table = app.table
        row = table.shown_ids.index("polish") + 1  # under the header
        glyph = line(app, row).index("▾")
        await pilot.click(table, offset=(glyph, row))
        assert "polish::lint" not in table.shown_ids
        assert table.selected_step == "polish"
        await pilot.click(table, offset=(glyph + 8, row))  # on the name: selects only
        assert "polish::lint" not in table.shown_ids
        await pilot.click(table, offset=(glyph, row))
        assert "polish::lint" in table.shown_ids


async def test_v_cycles_the_status_views_and_says_which(tree_app: AilApp) -> None:
    app = tree_app
    async with app.run_test(size=(200, 40)) as pilot:
        await run_to_the_end(pilot, app)
        table = app.table
        await pilot.press("v")
        assert line(app, 0).strip() == "filter: failed first · 10/10 shown"
        assert table.shown_ids[0] == "ship"
        await pilot.press("v")
        assert line(app, 0).strip() == "filter: failed only · 1/10 shown"
        assert table.shown_ids == ["ship"]
        await pilot.press("v")
        assert line(app, 0).strip() == "filter: running only · 0/10 shown"
        await pilot.press("v")
        assert table.shown_ids == TREE_ORDER
        assert line(app, 0).split()[:2] == ["status", "step"]  # the header again


async def test_f_filters_by_name_keeping_ancestors_enter_keeps_escape_clears(
        tree_app: AilApp) -> None:
    app = tree_app
    async with app.run_test(size=(200, 40)) as pilot:
        await run_to_the_end(pilot, app)
        table, box = app.table, app.screen.query_one(StepNameFilter)
        await pilot.press("f")
        assert box.display and box.has_focus
        await pilot.press(*"FETCH")
        assert table.shown_ids == ["sub", "sub::fetch"]
        assert line(app, 0).strip() == 'filter: name "FETCH" · 2/10 shown'
        await pilot.press("enter")
        assert (box.display, table.has_focus) == (False, True)
        assert table.shown_ids == ["sub", "sub::fetch"]
        await pilot.press("f")
        assert box.value == "FETCH"
        await pilot.press("escape")
        assert (box.display, table.has_focus) == (False, True)
        assert table.shown_ids == TREE_ORDER


async def test_the_selection_stays_on_its_step_when_filters_change(
        tree_app: AilApp) -> None:
    app = tree_app
    async with app.run_test(size=(200, 40)) as pilot:
        await run_to_the_end(pilot, app)
        table = app.table
        table.select_step("ship")
        await pilot.press("v")  # failed first: ship moves to the top, still selected
        assert (table.shown_ids.index("ship"), table.selected_step) == (0, "ship")
        await pilot.press("v")
        assert table.selected_step == "ship"
        await pilot.press("v", "v")
        assert table.selected_step == "ship"
        table.select_step("sub::check")
        await pilot.press("f", *"ch")  # sub::check and plan::before::0 (the issues)
        assert table.selected_step == "sub::check"
        await pilot.press("escape")
        assert table.selected_step == "sub::check"


class TableAlone(App[None]):
    """The steps table alone, ``width`` columns wide, showing ``view``."""

    def __init__(self, view: RunView, width: int) -> None:
        super().__init__()
        self.view, self.width = view, width

    def compose(self) -> ComposeResult:
        yield StepsTable()

    def on_mount(self) -> None:
        table = self.query_one(StepsTable)
        table.styles.width = self.width
        table.show(self.view)


def finished_view() -> RunView:
    """A sub-pipeline step and a human gate, done, with a model and a group."""
    view = RunView()
    for event in (ev.StepQueued(step_id="review", concurrent_group="fan_out_reviews", at=10.0),
                  ev.StepStarted(step_id="review", step_index=0, total_steps=2, at=11.0),
                  ev.StepCompleted(step_id="review", model="claude-sonnet-4-5-20250929",
                                   cost_usd=0.0123, input_tokens=12345, output_tokens=678,
                                   response="ok", at=52.5),
                  ev.HitlGateReached(step_id="approve", at=53.0),
                  ev.StepCompleted(step_id="approve", gate_passed=(), at=60.0)):
        view.apply(event)
    return view


@pytest.mark.parametrize(("width", "header"), [
    (None, ["status", "step", "kind", "elapsed", "try", "cost", "tokens", "model", "group",
            "launched", "started", "done"]),
    (60, ["status", "step", "kind", "elapsed", "try", "cost"]),
    (30, ["status", "step", "elapsed"]),
])
async def test_columns_fit_their_content_and_narrow_tables_drop_the_least_needed(
        width: int | None, header: list[str]) -> None:
    app = TableAlone(finished_view(), width or 10)
    async with app.run_test(size=(200, 10)) as pilot:
        table = app.query_one(StepsTable)
        full = table.full_width()
        table.styles.width = width or full
        await until(pilot, lambda: table.size.width == (width or full))
        assert table.render_line(0).text.split() == header
        gate = table.render_line(2).text.split()
        if width is None:  # every value whole
            assert gate[:3] == ["✓", "done", "approve"]
            assert gate[3] == "pause_for_human"
            review = table.render_line(1).text.split()
            assert review[4:] == ["41.5s", "1", "$0.0123", "12345/678", "claude-sonnet-4-5",
                                  "fan_out_reviews", *(table.get_cell("review", column)
                                                       for column in ("launched", "started",
                                                                      "done"))]
        else:
            assert gate[2] == "approve"


def test_a_sub_pipeline_inside_a_sub_pipeline_nests_its_rows(tmp_path: Path) -> None:
    write(tmp_path, [started("x"), entry("x", response="deep")], name="grandchild")
    child = write(tmp_path, [started("a"), entry("a", response="first"),
                             started("inner", child_run_id="grandchild"),
                             entry("inner", response="deep")], name="child")
    rows = child_rows("sub", child)
    assert [(row.step_id, row.kind, row.status) for row in rows] == [
        ("sub::a", "step", "done"), ("sub::inner", "pipeline", "done"),
        ("sub::inner::x", "step", "done")]
    assert child_rows("sub", tmp_path / "missing.jsonl") == []
