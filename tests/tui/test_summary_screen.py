"""The end-of-run summary: it opens on its own when a watched run ends (never for a
replay), on s at any time, and e exports the run as Markdown or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pilot_waits import until
from rich.console import Console
from textual.widgets import Input
from turn_records import FIXED, ts, write

from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.tui.app import AilApp
from ail_tui.tui.screens.export_dialog import ExportDialog
from ail_tui.tui.screens.main import MainScreen
from ail_tui.tui.screens.summary import SummaryScreen, summary_body

pytestmark = pytest.mark.timeout(60)

CHECKS = """
    version: "1"
    pipeline:
      - id: lint
        async: true
        context: {shell: "echo lint ok"}
      - id: deploy
        async: true
        timeout_seconds: 0.5
        context: {shell: "echo deploying; sleep 5"}
      - id: checks
        action: join
        depends_on: [lint, deploy]
        on_error: wait_for_all
      - id: summary
        prompt: "Summarise: {{ step.checks.response }}"
    """
RUN_ID = "5eed1e55-0000-4000-8000-000000000000"


def notified(app: AilApp, words: str) -> bool:
    return any(words in str(note.message) for note in app._notifications)


def shown_text(screen: SummaryScreen) -> str:
    console = Console(width=100, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(summary_body(screen.summary))
    return console.export_text()


@pytest.fixture
def replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AilApp:
    """A finished run's log opened in the dashboard (``ail-tui --log``)."""
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    records = [
        {"at": ts(0), "pipeline_source": "/w/p.ail.yaml", "project_hash": "h",
         "run_id": RUN_ID, "type": "run_started"},
        {**FIXED, "step_id": "plan", "prompt": "plan it", "response": "1. build\n2. ship",
         "model": "opus", "cost_usd": 0.25, "input_tokens": 1000, "output_tokens": 50,
         "launched_at": ts(0.0), "started_at": ts(0.0), "completed_at": ts(2.0)},
        {**FIXED, "step_id": "build", "prompt": "make", "stdout": "built\n", "exit_code": 0,
         "launched_at": ts(2.0), "started_at": ts(2.0), "completed_at": ts(5.0)},
        {"at": ts(6), "status": "completed", "type": "run_finished"},
    ]
    log = write(tmp_path, records, name=RUN_ID)
    return AilApp(None, replay=RecordedRun.read(log), summary_on_end=True)


async def test_the_summary_opens_on_its_own_when_a_run_ends(make_app) -> None:
    app = make_app(CHECKS, autorun=True, summary_on_end=True,
                   script={"steps": {"summary": {"response": "deploy failed", "delay": 0}}})
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen)
                    and any(str(title.render()) for title in app.screen.query("#summary-title")),
                    timeout=20)  # open, and drawn
        screen = app.screen
        assert isinstance(screen, SummaryScreen)
        summary = screen.summary
        assert summary.run_id == app.view.run_id and summary.status == "completed"
        assert [p.step_id for p in summary.critical_path][-2:] == ["checks", "summary"]
        assert {(r.runner, r.steps) for r in summary.runners} == {
            ("shell", 2), ("—", 1), ("stub", 1)}
        text = shown_text(screen)
        assert "Critical path" in text and "By runner" in text
        assert "✗ deploy: " in text  # the failed step and its error
        assert str(screen.query_one("#summary-title").render()).startswith(
            f"Run {summary.run_id[:8]} · ✓ completed")
        # The failed step is selected behind it; the summary replaces the notification.
        assert app.table.selected_step == "deploy"
        assert not notified(app, "Run completed")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_without_the_setting_the_run_end_is_a_notification(make_app) -> None:
    app = make_app(CHECKS, autorun=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: notified(app, "Run completed"), timeout=20)
        assert isinstance(app.screen, MainScreen)
        assert app.table.selected_step == "deploy"


async def test_s_opens_the_summary_of_a_replay_and_closes_it(replay: AilApp) -> None:
    app = replay
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "completed")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # a replay's end is old news
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        summary = app.screen.summary
        assert summary.wall_seconds == pytest.approx(6.0)
        assert [(p.step_id, p.duration) for p in summary.critical_path] == [
            ("plan", 2.0), ("build", 3.0)]
        assert "$0.2500" in shown_text(app.screen)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.press("s")  # s closes it too
        await until(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_e_exports_markdown_and_json(replay: AilApp, tmp_path: Path) -> None:
    app = replay
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "completed")
        await pilot.press("e")  # from the main screen
        await until(pilot, lambda: isinstance(app.screen, ExportDialog))
        field = app.screen.query_one("#export-path", Input)
        assert field.value == "ail-run-5eed1e55.md"
        await pilot.press("enter")
        markdown = tmp_path / "ail-run-5eed1e55.md"
        await until(pilot, lambda: notified(app, str(markdown)))
        assert isinstance(app.screen, MainScreen)
        text = markdown.read_text(encoding="utf-8")
        assert text.startswith("# Run 5eed1e55 — completed")
        assert "| `build` |" in text and "```text\n1. build\n2. ship\n```" in text

        await pilot.press("s", "e")  # from the summary, as JSON
        await until(pilot, lambda: isinstance(app.screen, ExportDialog))
        await pilot.click("#format-json")
        field = app.screen.query_one("#export-path", Input)
        await until(pilot, lambda: field.value == "ail-run-5eed1e55.json")
        await pilot.click("#export")
        exported = tmp_path / "ail-run-5eed1e55.json"
        await until(pilot, lambda: notified(app, str(exported)))
        assert isinstance(app.screen, SummaryScreen)  # back to the summary
        data = json.loads(exported.read_text(encoding="utf-8"))
        assert data["schema"] == "ail-tui-run-summary/1" and data["run_id"] == RUN_ID
        assert [s["step_id"] for s in data["steps"]] == ["plan", "build"]


async def test_a_typed_json_name_picks_json_and_escape_writes_nothing(
        replay: AilApp, tmp_path: Path) -> None:
    app = replay
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "completed")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ExportDialog))
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        dialog.query_one("#export-path", Input).value = "out/run.json"
        await until(pilot, lambda: dialog.fmt == "json")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert not (tmp_path / "out").exists()
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ExportDialog))
        app.screen.query_one("#export-path", Input).value = "out/run.json"
        await pilot.press("enter")
        await until(pilot, lambda: notified(app, "out/run.json"))
        assert json.loads((tmp_path / "out" / "run.json").read_text())["status"] == "completed"


async def test_s_and_e_without_a_run_say_so(make_app) -> None:
    app = make_app(CHECKS)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.pipeline is not None)
        await pilot.press("s")
        await until(pilot, lambda: notified(app, "No run on screen yet"))
        await pilot.press("e")
        await until(pilot, lambda: len(app._notifications) == 2)
        assert isinstance(app.screen, MainScreen)
