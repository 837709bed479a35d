"""The dashboard attached to a run of another process (issue 13, decisions A3, A6).

The run is a :class:`LocalRun` served in this process behind a :class:`ControlServer`
on a socket in a private runtime folder; the dashboard follows it through a
:class:`RemoteRun`, exactly as ``ail-tui attach`` does. A recorder subscribed to the run
from its start says what the run itself did, to compare with what the dashboard shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from event_recorder import Recorder
from pilot_waits import until
from private_runtime import private_home, private_runtime
from textual.message import Message
from textual.widgets._footer import FooterKey

from ail_tui.engine import events as ev
from ail_tui.engine.local_run import LocalRun
from ail_tui.engine.run_types import RunOptions, RunResult, RunStatus
from ail_tui.orchestration import live_runs
from ail_tui.orchestration.control_server import ControlServer
from ail_tui.orchestration.remote_run import RemoteRun
from ail_tui.pipeline.loader import Pipeline
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.registry import RunnerFactory
from ail_tui.runners.stub import StubScript
from ail_tui.tui.app import AilApp
from ail_tui.tui.messages import RunAttached
from ail_tui.tui.run_view import RunView
from ail_tui.tui.screens.dialogs import GateDialog, LeaveDialog
from ail_tui.tui.screens.history import HistoryScreen
from ail_tui.turnlog.paths import runs_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "detached_tui"
PIPELINE = "branches_gate_held.ail.yaml"
QUICK = {"default": {"response": "ok", "delay": 0.02}}
"""A stub script: every prompt answers at once (``thinker`` included)."""
SLOW_THINKER = {**QUICK, "steps": {"thinker": {"response": "thought it through",
                                               "delay": 30}}}
"""``thinker`` runs until the test ends it (the run, or the step, is cancelled)."""
SIZE = (120, 36)
END_WITHIN = 20.0


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private runtime folder (0700) short enough for a socket path, as
    ``AIL_TUI_RUNTIME_DIR``."""
    with private_runtime(monkeypatch) as folder:
        yield folder


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project folder (the working directory), with a ``HOME`` of its own."""
    private_home(tmp_path, monkeypatch)
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


class Served:
    """A run of the fixture pipeline behind a control server in this process."""

    def __init__(self, work: Path, script: dict[str, Any], interactive: bool) -> None:
        checked = check_file(FIXTURES / PIPELINE)
        assert checked.valid and checked.pipeline is not None, checked.errors
        self.pipeline: Pipeline = checked.pipeline
        self.work = work
        runners = RunnerFactory(stub_script=StubScript.model_validate(script))
        options = RunOptions(runner="stub", runners=runners, sync_log=False,
                             log_dir=runs_dir(work), cwd=str(work), interactive=interactive)
        self.run = LocalRun(self.pipeline, options)
        self.recorder = Recorder()
        self.run.subscribe(self.recorder)
        self.server = ControlServer(self.run, live_runs.socket_path(self.run.run_id),
                                    pipeline_source=str(self.pipeline.source),
                                    log_path=self.run.log_path).start()
        self.viewers: list[RemoteRun] = []

    def start(self) -> Served:
        self.run.start()
        return self

    def viewer(self) -> RemoteRun:
        remote = RemoteRun(self.server.path)
        self.viewers.append(remote)
        return remote

    def app(self, remote: RemoteRun | None = None, **options: Any) -> AilApp:
        """The dashboard on the fixture pipeline, attached to this run."""
        return AilApp(FIXTURES / PIPELINE, attach=remote or self.viewer(),
                      log_dir=self.work / "dashboard-runs", watch_files=False, **options)

    def release(self) -> None:
        """Let the held ``last`` step finish."""
        (self.work / "release").touch()

    def happened(self, kind: type[ev.Event], step_id: str | None = None) -> list[ev.Event]:
        return [e for e in list(self.recorder.events) if isinstance(e, kind)
                and (step_id is None or getattr(e, "step_id", None) == step_id)]

    def wait_for(self, kind: type[ev.Event], step_id: str | None = None,
                 timeout: float = 10.0) -> ev.Event:
        return self.recorder.wait_for(
            lambda e: isinstance(e, kind)
            and (step_id is None or getattr(e, "step_id", None) == step_id), timeout)

    def expected_view(self) -> RunView:
        """What the run's own events say, folded as the dashboard folds them."""
        view = RunView.planned(self.pipeline)
        for event in list(self.recorder.events):
            view.apply(event)
        return view

    def ended(self) -> RunResult:
        result = self.run.wait(END_WITHIN)
        assert result is not None, f"the run did not end within {END_WITHIN} s"
        return result

    def last_record(self) -> dict[str, Any]:
        log = self.run.log_path
        assert log is not None
        lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line]
        record: dict[str, Any] = json.loads(lines[-1])
        return record

    def close(self) -> None:
        for remote in self.viewers:
            remote.close()
        if self.run.wait(0) is None:
            self.run.cancel("the test ended")
            self.run.wait(10)
        self.server.close(within=0.2)
        live_runs.remove_note(self.run.run_id)


@pytest.fixture
def serve(runtime: Path, work: Path) -> Iterator[Callable[..., Served]]:
    """``serve(script, interactive=...)``: a served run (its socket in ``runtime``), not
    started yet; ended after the test."""
    made: list[Served] = []

    def make(script: dict[str, Any] = SLOW_THINKER, interactive: bool = True) -> Served:
        served = Served(work, script, interactive)
        made.append(served)
        return served

    yield make
    for served in made:
        served.close()


ROW_FIELDS = ("kind", "status", "attempts", "launched_at", "started_at", "completed_at",
              "cancelled_by", "response", "exit_code", "group", "error")


def rows_of(view: RunView) -> dict[str, tuple[Any, ...]]:
    """What a row shows, field by field, for every step."""
    return {step: tuple(getattr(row, name) for name in ROW_FIELDS)
            for step, row in view.rows.items()}


def shows_as_run_says(app: AilApp, served: Served) -> bool:
    """The dashboard's rows and state are those the run's own events give."""
    expected = served.expected_view()
    return (rows_of(app.view) == rows_of(expected) and app.view.state == expected.state
            and app.view.run_id == expected.run_id)


def status(app: AilApp, step_id: str) -> str | None:
    """The status of a step's row, once the dashboard has read the pipeline and shows the
    run with every planned step (None before: its first verdict starts the view again)."""
    row = app.view.rows.get(step_id) if app.pipeline is not None else None
    return row.status if row is not None else None


def cells_say(app: AilApp, served: Served) -> dict[str, str]:
    """The status cell of each row as drawn, against the run's own word for it."""
    expected = served.expected_view()
    return {step: app.table.get_cell(step, "status") for step in expected.rows
            if app.table.get_cell(step, "status") != f"{expected.rows[step].glyph} "
            f"{expected.rows[step].status}"}


def branches_running(serve: Callable[..., Served]) -> Served:
    """A served run with the slow thinker, started; once both its branches (``sleeper``
    and ``thinker``) run."""
    served = serve().start()
    served.wait_for(ev.StepStarted, "sleeper")
    served.wait_for(ev.StepStarted, "thinker")
    return served


async def leave_dialog(pilot: Any, app: AilApp) -> None:
    """Press ``q`` and wait until the dialog asking detach or cancel shows its title."""
    await pilot.press("q")
    await until(pilot, lambda: isinstance(app.screen, LeaveDialog)
                and bool(app.screen.query("#dialog-title")))


# -- what the attached dashboard shows --------------------------------------------------


@pytest.mark.timeout(60)
async def test_attached_dashboard_shows_the_run_from_its_start_then_live(serve) -> None:
    served = serve(QUICK).start()
    served.wait_for(ev.StepCompleted, "thinker")  # done before anyone attached
    served.wait_for(ev.StepStarted, "sleeper")
    before = len(served.recorder.events)
    app = served.app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.pipeline is not None and shows_as_run_says(app, served))
        assert status(app, "first") == "done" and status(app, "thinker") == "done"
        assert status(app, "sleeper") == "running"
        assert status(app, "joined") == "pending"
        await until(pilot, lambda: cells_say(app, served) == {})
        assert " run_started " in app.event_lines[0]  # the events pane, from the start

        # The run goes on, steered from elsewhere: what it does arrives live.
        assert served.run.cancel_step("sleeper")
        served.wait_for(ev.HitlGateReached, "approve")
        await until(pilot, lambda: isinstance(app.screen, GateDialog))
        assert served.run.answer_gate("approve", True)
        served.release()
        assert served.ended().status is RunStatus.COMPLETED
        await until(pilot, lambda: app.view.state == "completed")
        assert len(served.recorder.events) > before
        assert shows_as_run_says(app, served)
        assert status(app, "sleeper") == "cancelled"
        assert app.view.rows["sleeper"].cancelled_by == "user"
        assert status(app, "approve") == "done"
        assert status(app, "last") == "done"
        await until(pilot, lambda: cells_say(app, served) == {})


@pytest.mark.timeout(60)
async def test_the_banner_names_the_run_and_its_process(serve) -> None:
    served = serve().start()
    served.wait_for(ev.StepStarted, "thinker")
    remote = served.viewer()
    app = served.app(remote)
    async with app.run_test(size=SIZE) as pilot:
        banner = app.query_one("#banner")
        await until(pilot, lambda: banner.has_class("shown") and banner.region.height == 1)
        text = str(banner.render())
        assert f"attached to run {served.run.run_id[:8]}" in text
        assert f"of process {remote.pid}" in text and remote.pid > 0
        assert "leaving this dashboard leaves the run running" in text
        # The first verdict shows the run again, with every planned step: the banner stays.
        await until(pilot, lambda: status(app, "thinker") == "running"
                    and banner.has_class("shown") and banner.region.height == 1)
        assert str(banner.render()) == text


# -- controls: they act on the served run -----------------------------------------------


@pytest.mark.timeout(60)
async def test_x_cancels_the_selected_branch_of_the_served_run_only(serve) -> None:
    served = branches_running(serve)
    app = served.app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.pipeline is not None
                    and status(app, "sleeper") == "running"
                    and status(app, "thinker") == "running")
        app.table.select_step("first")
        await pilot.press("j")  # first → sleeper
        await until(pilot, lambda: app.table.selected_step == "sleeper")
        await pilot.press("x")

        cancelled = served.wait_for(ev.StepCancelled, "sleeper")
        assert isinstance(cancelled, ev.StepCancelled) and cancelled.cancelled_by == "user"
        await until(pilot, lambda: status(app, "sleeper") == "cancelled")
        assert app.table.get_cell("sleeper", "status") == "⊘ cancelled"
        # Only that step: the other branch and the run go on.
        assert served.happened(ev.StepCancelled, "thinker") == []
        assert status(app, "thinker") == "running"
        assert served.run.wait(0) is None and app.view.running


@pytest.mark.timeout(60)
async def test_g_answers_the_gate_of_the_served_run(serve) -> None:
    served = serve(QUICK).start()
    served.wait_for(ev.StepStarted, "sleeper")
    served.run.cancel_step("sleeper")
    served.wait_for(ev.HitlGateReached, "approve")  # it waits for a person (A5)
    served.release()
    app = served.app()
    async with app.run_test(size=SIZE) as pilot:
        # The waiting gate asks at once; "later" leaves it waiting, g asks again.
        await until(pilot, lambda: status(app, "approve") == "waiting"
                    and isinstance(app.screen, GateDialog)
                    and bool(app.screen.query("#gate-message")))
        assert "Ship it?" in str(app.screen.query_one("#gate-message").render())
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, GateDialog))
        assert status(app, "approve") == "waiting"
        assert served.happened(ev.StepCompleted, "approve") == []
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, GateDialog)
                    and bool(app.screen.query("#gate-message")))
        await pilot.press("y")

        served.wait_for(ev.StepCompleted, "approve")
        assert served.ended().status is RunStatus.COMPLETED
        await until(pilot, lambda: app.view.state == "completed")
        assert status(app, "approve") == "done"
        assert status(app, "last") == "done"


# -- leaving: q asks detach or cancel ---------------------------------------------------


@pytest.mark.timeout(60)
async def test_q_then_d_leaves_the_served_run_running(serve) -> None:
    served = branches_running(serve)
    remote = served.viewer()
    app = served.app(remote)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: status(app, "thinker") == "running")
        await leave_dialog(pilot, app)
        assert served.run.run_id[:8] in str(app.screen.query_one("#dialog-title").render())
        assert served.run.wait(0) is None  # asking changes nothing yet
        await pilot.press("d")
        await until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
    # The run goes on without the dashboard, and to its end when steered on.
    assert served.run.wait(0) is None
    assert served.happened(ev.StepCancelled) == [] and served.happened(ev.PipelineError) == []
    assert served.run.cancel_step("sleeper") and served.run.cancel_step("thinker")
    served.wait_for(ev.HitlGateReached, "approve")
    assert served.run.answer_gate("approve", True)
    served.wait_for(ev.StepStarted, "last")
    assert served.run.wait(0) is None
    served.release()
    assert served.ended().status is RunStatus.COMPLETED
    record = served.last_record()
    assert record["type"] == "run_finished" and record["status"] == "completed", record


@pytest.mark.timeout(60)
async def test_q_then_c_cancels_the_served_run(serve) -> None:
    served = branches_running(serve)
    app = served.app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: status(app, "thinker") == "running")
        await leave_dialog(pilot, app)
        await pilot.press("c")
        await until(pilot, lambda: app.return_code is not None, timeout=END_WITHIN)
    assert app.return_code == 0
    assert served.ended().status is RunStatus.CANCELLED
    record = served.last_record()
    assert record["type"] == "run_finished" and record["status"] == "cancelled", record
    assert {e.step_id for e in served.happened(ev.StepCancelled)} >= {"sleeper", "thinker"}


@pytest.mark.timeout(60)
async def test_escape_in_the_leave_dialog_stays(serve) -> None:
    served = serve().start()
    served.wait_for(ev.StepStarted, "thinker")
    app = served.app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: status(app, "thinker") == "running")
        await leave_dialog(pilot, app)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, LeaveDialog))
        assert app.return_code is None and app.view.running
        assert served.run.wait(0) is None


# -- gates answered elsewhere (several viewers, A3) ---------------------------------------


@pytest.mark.timeout(60)
async def test_a_gate_answered_before_attaching_is_not_asked_again(serve) -> None:
    served = serve(QUICK).start()
    served.wait_for(ev.StepStarted, "sleeper")
    served.run.cancel_step("sleeper")
    served.wait_for(ev.HitlGateReached, "approve")
    assert served.run.answer_gate("approve", True)
    served.wait_for(ev.StepStarted, "last")  # held until released
    app = served.app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: status(app, "last") == "running")
        assert "approve" not in app.view.questions
        assert app.questions.showing is None  # no dialog asks it


@pytest.mark.timeout(60)
async def test_a_gate_answered_by_another_viewer_closes_its_dialog(serve) -> None:
    served = serve(QUICK).start()
    served.wait_for(ev.StepStarted, "sleeper")
    app = served.app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: status(app, "sleeper") == "running")
        served.run.cancel_step("sleeper")
        await until(pilot, lambda: isinstance(app.screen, GateDialog))
        other = served.viewer()  # a second dashboard, or ail-tui answer
        assert other.answer_gate("approve", True)
        await until(pilot, lambda: status(app, "approve") == "done"
                    and status(app, "last") == "running")
        assert "approve" not in app.view.questions
        await until(pilot, lambda: not isinstance(app.screen, GateDialog), timeout=3)


@pytest.mark.timeout(60)
async def test_a_finished_run_read_back_shows_its_passed_gate_as_live_viewers_saw_it(
        serve) -> None:
    from ail_tui.engine.recorded_run import RecordedRun

    served = serve(QUICK).start()
    served.wait_for(ev.StepStarted, "sleeper")
    served.run.cancel_step("sleeper")
    served.wait_for(ev.HitlGateReached, "approve")
    served.run.answer_gate("approve", True)
    served.release()
    assert served.ended().status is RunStatus.COMPLETED
    assert served.expected_view().rows["approve"].status == "done"  # as it was live
    assert served.run.log_path is not None
    app = AilApp(FIXTURES / PIPELINE, runner="stub", watch_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.pipeline is not None)
        # As the history opens it: the plan's rows, the log's events.
        app.open_replay(RecordedRun.read(served.run.log_path), app.pipeline)
        await until(pilot, lambda: app.replaying and status(app, "last") == "done")
        assert status(app, "sleeper") == "cancelled"
        assert status(app, "approve") == "done"


# -- the history lists live runs; enter attaches ----------------------------------------


@pytest.mark.timeout(60)
async def test_history_lists_a_live_run_and_enter_attaches_to_it(serve, work: Path) -> None:
    finished = serve(QUICK, interactive=False).start()  # a run of the past, not live
    finished.wait_for(ev.StepStarted, "sleeper")
    finished.run.cancel_step("sleeper")
    finished.release()
    assert finished.ended().status is RunStatus.COMPLETED
    (work / "release").unlink()
    served = serve().start()
    served.wait_for(ev.StepStarted, "thinker")
    live_runs.write_note(live_runs.new_note(served.run.run_id, str(served.pipeline.source),
                                            served.run.log_path, detached=True))
    messages: list[Message] = []
    app = AilApp(FIXTURES / PIPELINE, runner="stub", watch_files=False,
                 log_dir=work / "dashboard-runs")
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await until(pilot, lambda: app.pipeline is not None)
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen)
                    and app.screen.query_one("DataTable").row_count == 2)
        table = app.screen.query_one("DataTable")
        rows = {str(table.get_row_at(i)[6]): str(table.get_row_at(i)[1])
                for i in range(table.row_count)}
        assert rows[served.run.run_id[:8]].endswith("· live"), rows
        assert "live" not in rows[finished.run.run_id[:8]], rows
        live_row = list(rows).index(served.run.run_id[:8])
        table.move_cursor(row=live_row)
        await pilot.press("enter")

        await until(pilot, lambda: any(isinstance(m, RunAttached) for m in messages))
        attached = next(m for m in messages if isinstance(m, RunAttached))
        assert attached.run is not None and attached.error == "", attached.error
        assert attached.run.run_id == served.run.run_id
        await until(pilot, lambda: app.session.attached
                    and app.view.run_id == served.run.run_id
                    and status(app, "thinker") == "running")
        assert not app.replaying
        assert shows_as_run_says(app, served)
        banner = app.query_one("#banner")
        assert banner.has_class("shown")
        assert f"attached to run {served.run.run_id[:8]}" in str(banner.render())
        # Attached from the history, it steers the run like any viewer.
        app.table.select_step("thinker")
        await pilot.press("x")
        served.wait_for(ev.StepCancelled, "thinker")


# -- how it looks ------------------------------------------------------------------------

SNAPSHOT_CLOCK = 1_800_000_000.0
SNAPSHOT_RUN = "5ca1ab1e-0000-4000-8000-00000000a77a"
SNAPSHOT_PID = 4242
"""The banner names the run's process; the snapshot shows this one, not the test's."""


def stamp(seconds: float) -> str:
    from ail_tui.turnlog.timestamps import format_timestamp

    return format_timestamp(SNAPSHOT_CLOCK + seconds)


def cancelled_run_records(pipeline: Path) -> list[dict[str, Any]]:
    """A run of the fixture pipeline at fixed times, as its log records it: a person
    cancelled ``sleeper``, then the whole run while ``thinker`` was still thinking."""
    from turn_records import FIXED

    group = "cg-5ca1ab1e"
    branch = {"concurrent_group": group, "launched_at": stamp(0.5)}
    return [
        {"at": stamp(0), "pipeline_source": str(pipeline), "project_hash": "h",
         "type": "run_started"},
        {"at": stamp(0), "prompt": "first", "step_id": "first", "type": "step_started"},
        {**FIXED, "step_id": "first", "prompt": "first", "response": "ok", "cost_usd": 0.0,
         "launched_at": stamp(0), "completed_at": stamp(0.4)},
        {**branch, "at": stamp(0.5), "prompt": "touch started.sleeper; sleep 30; echo woke",
         "step_id": "sleeper", "type": "step_started"},
        {**branch, "at": stamp(0.5), "prompt": "think", "step_id": "thinker",
         "type": "step_started"},
        {**branch, "at": stamp(2.0), "cancelled_by": "user", "reason": "cancelled by user",
         "step_id": "sleeper", "type": "step_cancelled"},
        {**branch, "at": stamp(3.0), "cancelled_by": "user",
         "reason": "run cancelled by user", "step_id": "thinker", "type": "step_cancelled"},
        {"at": stamp(3.1), "error": "run cancelled by user",
         "error_type": "ail:runner/cancelled", "status": "cancelled", "type": "run_finished"},
    ]


@pytest.mark.timeout(60)
def test_snapshot_of_an_attached_dashboard(snap_compare, runtime: Path, work: Path) -> None:
    """A run at fixed times, served as a live one is (its log read back: a finished run
    whose times never change), seen by a viewer: the banner names the run."""
    import os
    import time

    from turn_records import write

    from ail_tui.engine.recorded_run import RecordedRun

    zone = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    pipeline = work / "p.ail.yaml"
    pipeline.write_text((FIXTURES / PIPELINE).read_text(encoding="utf-8"), encoding="utf-8")
    log = write(work, cancelled_run_records(pipeline), name=SNAPSHOT_RUN)
    run = RecordedRun.read(log)
    server = ControlServer(run, live_runs.socket_path(run.run_id),
                           pipeline_source=str(pipeline)).start()
    remote = RemoteRun(server.path)
    try:
        remote.pid = SNAPSHOT_PID
        app = AilApp(pipeline, attach=remote, runner="stub", watch_files=False,
                     log_dir=work / "dashboard-runs", clock=lambda: SNAPSHOT_CLOCK)

        async def attached(pilot: Any) -> None:
            await until(pilot, lambda: app.runner_checks is not None
                        and status(app, "thinker") == "cancelled"
                        and app.view.state == "cancelled")
            # The run controls leave the footer once the run has ended (at its redraw).
            await until(pilot, lambda: not any(key.description == "Cancel run"
                                               for key in app.screen.query(FooterKey)))
            app.table.select_step("sleeper")
            await pilot.pause()

        assert snap_compare(app, terminal_size=(120, 30), run_before=attached)
    finally:
        remote.close()
        server.close(within=0.2)
        if zone is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = zone
        time.tzset()
