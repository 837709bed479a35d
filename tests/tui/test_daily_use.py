"""Daily use of the dashboard (issue 14): saves after a run, r on an invalid file,
replays from the history and of a log file, and a footer that keeps ? and q in sight."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_waits import start_run, until
from textual.widgets._footer import FooterKey
from turn_records import FIXED, ts, write

from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.tui.app import AilApp
from ail_tui.tui.screens.history import HistoryScreen
from ail_tui.turnlog.paths import project_db

pytestmark = pytest.mark.timeout(60)

GREET = """
    version: "1"
    pipeline:
      - id: greet
        context: {shell: "echo hello"}
    """
LONG = """
    version: "1"
    pipeline:
      - id: long
        context: {shell: "sleep 30"}
    """
GREET_AND_MORE = ('version: "1"\npipeline:\n  - id: greet\n    context: {shell: "echo hello"}\n'
                  "  - id: added\n    context: {shell: \"echo more\"}\n")


def text_of(app: AilApp, selector: str) -> str:
    return str(app.query_one(selector).render())


def notified(app: AilApp, words: str) -> bool:
    return any(words in str(note.message) for note in app._notifications)


def footer_keys(app: AilApp) -> list[str]:
    """The footer's keys ("key description") as far as they are on screen: not cut off,
    not under the command palette's key at its right."""
    keys = list(app.screen.query(FooterKey))
    palette = [key for key in keys if key.has_class("-command-palette")]
    right = min([app.size.width, *(key.region.x for key in palette)])
    return [f"{key.key_display} {key.description}" for key in keys
            if key not in palette and key.region.width and key.region.right <= right]


def footer_text(app: AilApp) -> str:
    return "  ".join(footer_keys(app))


async def test_a_save_after_a_finished_run_keeps_its_results(make_app, tmp_path: Path) -> None:
    app = make_app(GREET)
    async with app.run_test(size=(160, 36)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.state == "completed")
        run_id = app.view.run_id
        (tmp_path / "p.ail.yaml").write_text(GREET_AND_MORE)
        await until(pilot, lambda: app.generation == 2 and "added" in text_of(app, "#plan"))
        await until(pilot, lambda: "r runs the new version" in text_of(app, "#status"))
        # The finished run stays on screen: its rows, its timeline, its state.
        assert app.view.run_id == run_id and app.view.state == "completed"
        assert app.view.rows["greet"].status == "done" and "added" not in app.view.rows
        assert app.table.get_cell("greet", "status") == "✓ done"
        assert "No run yet" not in app.timeline.render_text()
        assert "pipeline changed since this run" in text_of(app, "#status")
        assert app.current_run is not None and not app.view.running  # nothing started
        await pilot.press("r")  # r runs the new version
        await until(pilot, lambda: app.view.run_id != run_id and app.view.state == "completed")
        assert list(app.view.rows) == ["greet", "added"]
        assert "pipeline changed" not in text_of(app, "#status")


async def test_watch_run_still_reruns_after_a_save_of_a_finished_run(
        make_app, tmp_path: Path) -> None:
    app = make_app(GREET, watch_run=True, autorun=True)
    async with app.run_test(size=(160, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "completed")
        first = app.view.run_id
        (tmp_path / "p.ail.yaml").write_text(GREET_AND_MORE)
        await until(pilot, lambda: app.view.run_id != first and app.view.state == "completed")
        assert app.view.rows["added"].status == "done"


async def test_the_reload_notice_during_a_run_says_what_r_does(make_app, tmp_path: Path) -> None:
    app = make_app(LONG, autorun=True)
    async with app.run_test(size=(200, 36)) as pilot:
        await until(pilot, lambda: app.view.running)
        (tmp_path / "p.ail.yaml").write_text(
            'version: "1"\npipeline:\n  - id: long\n    context: {shell: "sleep 31"}\n')
        await until(pilot, lambda: "pipeline changed since this run started"
                    in text_of(app, "#status"))
        status = text_of(app, "#status")
        assert "r re-runs it" not in status
        assert "the new version runs next" in status and "c cancels" in status
        await pilot.press("c")
        await until(pilot, lambda: app.view.state == "cancelled")
        await until(pilot, lambda: "r runs the new version" in text_of(app, "#status"))


async def test_r_refuses_an_invalid_file_and_points_at_problems(
        make_app, tmp_path: Path) -> None:
    app = make_app(GREET)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.pipeline is not None)
        (tmp_path / "p.ail.yaml").write_text(
            'version: "1"\npipeline:\n  - id: a\n    action: explode\n')
        await until(pilot, lambda: app.result is not None and not app.result.valid)
        app.tabs.active = "tab-timeline"
        await pilot.press("r")
        await until(pilot, lambda: notified(app, "see Problems") or app.current_run is not None)
        assert app.current_run is None and app.view.run_id is None  # no run started
        assert notified(app, "invalid")
        assert app.tabs.active == "tab-problems"
        assert "unknown action 'explode'" in text_of(app, "#problems")


async def test_a_replay_from_the_history_shows_only_its_events_and_says_so(
        make_app) -> None:
    app = make_app(GREET)
    async with app.run_test(size=(160, 36)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.state == "completed")
        first = app.view.run_id
        assert first is not None
        app.tabs.active = "tab-events"
        await pilot.press("r")
        await until(pilot, lambda: app.view.state == "completed" and app.view.run_id != first)
        newer = app.view.run_id
        assert newer is not None
        await until(pilot, lambda: any(newer in line for line in app.event_log.lines))
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        app.screen.query_one("DataTable").move_cursor(row=1)  # the older run
        await pilot.press("enter")
        await until(pilot, lambda: app.replaying and app.view.run_id == first)
        banner = app.query_one("#banner")
        await until(pilot, lambda: banner.has_class("shown") and banner.region.height == 1)
        text = str(banner.render())
        assert f"replay of run {first[:8]} (started " in text and "r runs the pipeline" in text
        await until(pilot, lambda: any(first in line for line in app.event_log.lines))
        shown = app.event_log.lines
        assert not any(newer in line for line in shown)
        assert shown == app.event_lines  # the replayed run's lines, only those
        await pilot.press("r")  # a new run: the banner goes
        await until(pilot, lambda: not app.replaying and app.view.state == "completed")
        assert not banner.has_class("shown")


@pytest.fixture
def log_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AilApp:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    records = [
        {"at": ts(0), "pipeline_source": "/w/p.ail.yaml", "project_hash": "h",
         "type": "run_started"},
        {**FIXED, "step_id": "first", "prompt": "hi", "response": "hello",
         "launched_at": ts(0.1), "completed_at": ts(0.2)},
        {**FIXED, "step_id": "second", "prompt": "ho", "response": "bye",
         "launched_at": ts(0.3), "completed_at": ts(0.4)},
        {"at": ts(1), "status": "completed", "type": "run_finished"},
    ]
    return AilApp(None, replay=RecordedRun.read(write(tmp_path, records)))


async def test_a_log_file_opens_with_its_events_and_no_run_controls(log_only: AilApp) -> None:
    app = log_only
    async with app.run_test(size=(160, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "completed")
        await pilot.press("t", "t", "t")  # timeline → output → details → events
        await until(pilot, lambda: app.tabs.active == "tab-events"
                    and len(app.event_log.lines) == len(app.event_lines) > 0)
        assert "pipeline_completed" in app.event_log.lines[-1]
        problems = text_of(app, "#problems")
        assert "No pipeline file open" in problems and "log" in problems
        plan = text_of(app, "#plan")
        assert "No pipeline file open" in plan and "first" in plan and "second" in plan
        footer = footer_text(app)
        assert "Help" in footer and "Quit" in footer and "History" in footer
        for control in ("r Run", "c Cancel run", "x Cancel step", "p Pause"):
            assert control not in footer_keys(app)
        await pilot.press("r")
        await until(pilot, lambda: notified(app, "no pipeline to run"))
        assert notified(app, "ail-tui PIPELINE") and not notified(app, "see Problems")
        assert app.replaying and app.view.state == "completed"


@pytest.mark.parametrize("width", [80, 100, 120])
async def test_help_and_quit_stay_in_the_footer(make_app, width: int) -> None:
    app = make_app(LONG)
    async with app.run_test(size=(width, 30)) as pilot:
        await until(pilot, lambda: app.pipeline is not None)
        await until(pilot, lambda: "Help" in footer_text(app))
        assert "? Help" in footer_text(app) and "q Quit" in footer_text(app)
        await pilot.press("r")
        await until(pilot, lambda: app.view.running)
        await until(pilot, lambda: "Cancel run" in footer_text(app) or width < 120)
        footer = footer_text(app)
        assert "? Help" in footer and "q Quit" in footer and "r Run" in footer
        await pilot.press("c")
        await until(pilot, lambda: app.view.state == "cancelled")


async def test_a_run_whose_index_cannot_be_written_says_so_on_screen(
        make_app, tmp_path: Path) -> None:
    """The run completes, its turn log whole; a pop-up, not only an Events line, says
    that ``ail.db`` could not be written."""
    project_db(str(tmp_path)).mkdir(parents=True)  # no database can be made there
    app = make_app(GREET)
    async with app.run_test(size=(120, 36)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.state == "completed")
        await until(pilot, lambda: notified(app, "ail.db could not be written"))
        assert sum("ail.db" in str(note.message) for note in app._notifications) == 1
