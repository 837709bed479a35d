"""Going on from an earlier run in the dashboard (D1, D4): resume from the history (R),
re-run from the selected step (F), --watch-run reusing the unchanged steps, and the run
``ail-tui resume/rerun`` opens the dashboard on. Reused steps read ``↺ reused``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pilot_waits import until

from ail_tui.continue_commands import ContinueRequest
from ail_tui.engine.local_run import LocalRun
from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.engine.run_types import RunOptions
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.registry import RunnerFactory
from ail_tui.runners.stub import StubScript
from ail_tui.tui.app import AilApp
from ail_tui.tui.screens.history import HistoryScreen
from ail_tui.turnlog.paths import runs_dir

pytestmark = pytest.mark.timeout(60)


def counted(step_id: str) -> str:
    """A shell step that notes each time it runs in ``ran/STEP``."""
    return (f"  - id: {step_id}\n    context:\n      shell: \"mkdir -p ran; "
            f"echo {step_id} >> ran/{step_id}; echo {step_id}-out\"\n")


# ``check`` fails while its runner is overloaded (the stub script says so).
FAILS = ('version: "1"\npipeline:\n' + counted("first") + counted("second")
         + '  - id: check\n    prompt: "check it"\n' + counted("last"))
OVERLOADED = {"steps": {"check": {"error": "overloaded"}}}


def recovered(app: AilApp) -> None:
    """The runner is back: the runs started from now on succeed."""
    app.runners = RunnerFactory(stub_script=StubScript())


FOUR = """
    version: "1"
    pipeline:
      - id: one
        context: {shell: "mkdir -p ran; echo one >> ran/one; echo one-out"}
      - id: two
        prompt: "second"
      - id: three
        prompt: "third"
      - id: four
        prompt: "fourth: {{ step.three.response }}"
    """


def ran(folder: Path) -> dict[str, int]:
    """How many times each counted step ran."""
    return {p.name: len(p.read_text().splitlines()) for p in (folder / "ran").iterdir()}


def records(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line]


def entries_after_resume(path: str | Path) -> list[str]:
    """The step ids of the turn entries written after the log's ``run_resumed``."""
    lines = records(path)
    start = next(i for i, r in enumerate(lines) if r.get("type") == "run_resumed")
    return [r["step_id"] for r in lines[start:] if "step_id" in r and "type" not in r]


def statuses(app: AilApp) -> dict[str, str]:
    return {step_id: row.status for step_id, row in app.view.rows.items()}


def notes(app: AilApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_resume_a_failed_run_from_the_history(make_app, tmp_path: Path) -> None:
    app = make_app(FAILS, script=OVERLOADED, autorun=True)
    async with app.run_test(size=(140, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "failed")
        first, log = app.view.run_id, app.view.log_path
        assert statuses(app) == {"first": "done", "second": "done", "check": "failed",
                                 "last": "pending"}
        recovered(app)
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        assert "R resumes a resumable one" in str(app.screen.query_one("#dialog-title")
                                                  .render())
        await pilot.press("R")
        await until(pilot, lambda: app.view.resumed and app.view.state == "completed")
        # The same run, in its own log: only the failed step and what follows ran.
        assert (app.view.run_id, app.view.log_path) == (first, log)
        assert statuses(app) == {"first": "reused", "second": "reused", "check": "done",
                                 "last": "done"}
        assert ran(tmp_path) == {"first": 1, "second": 1, "last": 1}
        assert entries_after_resume(log) == ["check", "last"]
        assert "Resume: 2 step results reused." in notes(app)
        assert app.table.get_cell("first", "status") == "↺ reused"
        assert "run " + first[:8] + " resumed completed" in str(app.status.render())
        # Its replay: the first attempt failed, the run stopped, and was resumed.
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.press("enter")
        await until(pilot, lambda: app.replaying)
        assert app.view.rows["check"].history == [
            "attempt 1: failed [ail:runner/invocation-failed] overloaded", "attempt 2: done"]
        ends = [line for line in app.event_lines
                if " run_started " in line or " pipeline_error " in line]
        assert [" run_started " in line for line in ends] == [True, False, True]
        assert "status='failed'" in ends[1] and " resumed=True " in ends[2]
        assert (app.view.state, app.view.resumed) == ("completed", True)


async def test_a_finished_run_is_not_resumed(make_app, tmp_path: Path) -> None:
    app = make_app(FOUR, autorun=True)
    async with app.run_test(size=(140, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "completed")
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.press("R")
        await until(pilot, lambda: "nothing to resume" in notes(app))
        assert isinstance(app.screen, HistoryScreen)  # still there: pick another
        assert "press F on a step to re-run it from there" in notes(app)
        assert ran(tmp_path) == {"one": 1}


async def test_a_run_that_cannot_go_on_says_why(make_app, tmp_path: Path) -> None:
    app = make_app(FAILS, script=OVERLOADED, autorun=True)
    async with app.run_test(size=(140, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "failed")
        log = Path(str(app.view.log_path))
        log.unlink()  # the log is gone
        app.starts.resume(log)
        await until(pilot, lambda: "Cannot resume:" in notes(app))
        assert app.view.state == "failed" and not app.view.resumed
        # A replayed run of a pipeline file that is not there any more.
        other = tmp_path / "other.jsonl"
        other.write_text("".join(json.dumps(r) + "\n" for r in [
            {"at": "2026-04-14T10:00:00.000Z", "pipeline_source": str(tmp_path / "gone.yaml"),
             "project_hash": "h", "type": "run_started"},
            {"step_id": "a", "prompt": "p", "response": "r",
             "completed_at": "2026-04-14T10:00:01.000Z"},
            {"at": "2026-04-14T10:00:02.000Z", "status": "completed", "type": "run_finished"},
        ]))
        app.open_replay(RecordedRun.read(other))
        app.table.select_step("a")
        await pilot.press("F")
        await until(pilot, lambda: "Cannot re-run from a:" in notes(app))
        assert "gone.yaml) is not valid now" in notes(app)
        assert app.replaying


async def test_watch_run_reuses_the_steps_before_the_edited_one(make_app,
                                                                tmp_path: Path) -> None:
    app = make_app(FOUR, autorun=True, watch_run=True)
    async with app.run_test(size=(140, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "completed")
        first = app.view.run_id
        assert first is not None
        path = tmp_path / "p.ail.yaml"
        path.write_text(path.read_text().replace('"third"', '"third, edited"'))
        await until(pilot, lambda: app.view.run_id not in (None, first)
                    and app.view.state == "completed")
        assert statuses(app) == {"one": "reused", "two": "reused", "three": "done",
                                 "four": "done"}
        assert app.view.rows["three"].prompt == "third, edited"
        assert ran(tmp_path) == {"one": 1}
        reused = {r["step_id"]: r.get("reused_from") for r in records(str(app.view.log_path))
                  if "step_id" in r and "type" not in r}
        assert reused == {"one": first, "two": first, "three": None, "four": None}
        # r is always a full run.
        await pilot.press("r")
        await until(pilot, lambda: app.view.state == "completed"
                    and app.view.rows["one"].status == "done")
        assert ran(tmp_path) == {"one": 2}


async def test_rerun_from_the_selected_step(make_app, tmp_path: Path) -> None:
    # three runs long enough for F to come while the run runs, however busy the machine.
    app = make_app(FOUR, script={"steps": {"three": {"delay": 3}}}, autorun=True)
    async with app.run_test(size=(140, 36)) as pilot:
        await until(pilot, lambda: "three" in app.view.rows
                    and app.view.rows["three"].status == "running")
        await pilot.press("F")  # while the run runs: as for r
        await until(pilot, lambda: "A run is in progress: c cancels it first." in notes(app))
        await until(pilot, lambda: app.view.state == "completed")
        first = app.view.run_id
        app.table.select_step("two")
        await pilot.press("F")
        await until(pilot, lambda: app.view.run_id != first and app.view.state == "completed")
        assert statuses(app) == {"one": "reused", "two": "done", "three": "done",
                                 "four": "done"}
        assert ran(tmp_path) == {"one": 1}
        assert "Re-run from two: 1 step result reused." in notes(app)
        # Its details say where the result came from; the table, timeline and header
        # say it with a glyph and a word.
        app.table.select_step("one")
        app.tabs.active = "tab-details"
        await until(pilot, lambda: f"reused from run {first} (not run again)"
                    in str(app.details.render()))
        assert "one · shell · ↺ reused" in str(app.details.render())
        assert "↺1 reused" in str(app.status.render())
        app.tabs.active = "tab-timeline"
        await until(pilot, lambda: "↺ reused" in app.timeline.render_text())


async def test_rerun_from_a_step_of_a_replayed_run(make_app, tmp_path: Path) -> None:
    app = make_app(FOUR, autorun=True)
    async with app.run_test(size=(140, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "completed")
        first = app.view.run_id
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.press("enter")
        await until(pilot, lambda: app.replaying)
        app.table.select_step("four")
        await pilot.press("F")
        await until(pilot, lambda: not app.replaying and app.view.state == "completed")
        assert app.view.run_id != first
        assert statuses(app) == {"one": "reused", "two": "reused", "three": "reused",
                                 "four": "done"}


def run_once(folder: Path, text: str, script: dict[str, Any] | None = None) -> Path:
    """Run ``text`` (as ``p.ail.yaml`` in ``folder``) to its end without the dashboard;
    its turn log."""
    path = folder / "p.ail.yaml"
    path.write_text(text, encoding="utf-8")
    pipeline = check_file(path).pipeline
    assert pipeline is not None
    runners = RunnerFactory(stub_script=StubScript.model_validate(script or {}))
    run = LocalRun(pipeline, RunOptions(runner="stub", runners=runners)).start()
    result = run.wait(30)
    assert result is not None and result.log_path is not None
    return result.log_path


@pytest.mark.parametrize(("resume", "from_step", "expected"), [
    (True, None, {"first": "reused", "second": "reused", "check": "done", "last": "done"}),
    (False, "second", {"first": "reused", "second": "done", "check": "done",
                       "last": "done"}),
])
async def test_the_dashboard_of_ail_tui_resume_and_rerun(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, resume: bool,
        from_step: str | None, expected: dict[str, str]) -> None:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    log = run_once(tmp_path, FAILS, OVERLOADED)
    assert log.parent == runs_dir(str(tmp_path))
    # As run_dashboard(path, ..., continue_from=...) builds it for ail-tui resume/rerun.
    app = AilApp(tmp_path / "p.ail.yaml", runner="stub",
                 runners=RunnerFactory(stub_script=StubScript()),
                 continue_from=ContinueRequest(log, resume, from_step))
    async with app.run_test(size=(140, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "completed")
        assert statuses(app) == expected
        assert (app.view.log_path == str(log)) is resume
        assert app.view.resumed is resume
        assert app.session.generation == app.generation == 1  # the pipeline on screen


async def test_a_step_in_flight_when_the_run_stopped_is_reconciled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    text = ('version: "1"\npipeline:\n' + counted("first")
            + "  - id: deploy\n    context:\n      shell: \"echo deployed\"\n"
              "    reconcile:\n      shell: \"echo found $AIL_STEP_ID\"\n" + counted("last"))
    log = run_once(tmp_path, text)
    lines = log.read_text().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines)
               if '"step_started"' in line and '"deploy"' in line) + 1
    log.write_text("".join(lines[:cut]))  # deploy started; then the machine went down
    app = AilApp(tmp_path / "p.ail.yaml", runner="stub", runners=RunnerFactory(),
                 continue_from=ContinueRequest(log, resume=True))
    async with app.run_test(size=(140, 36)) as pilot:
        await until(pilot, lambda: app.view.state == "completed")
        assert statuses(app) == {"first": "reused", "deploy": "reconciled", "last": "done"}
        assert ran(tmp_path) == {"first": 1, "last": 2}
        assert app.table.get_cell("deploy", "status") == "⇌ reconciled"
        assert "⇌1 reconciled" in str(app.status.render())
        app.table.select_step("deploy")
        app.tabs.active = "tab-details"
        await until(pilot, lambda: "recovered by its reconcile command after the run "
                    "stopped while it was running" in str(app.details.render()))
        assert list(app.view.rows["deploy"].output) == ["found deploy"]
