"""Issue 14: a search match is shown and marked; steps a run never reached say so; a
running step's time counts with the dashboard's clock; a replayed log tells step kinds."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from pilot_waits import start_run, until
from rich.style import Style
from rich.text import Text
from turn_records import RUN_STARTED, entry, started, ts, write

from ail_tui.engine import events as ev
from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.runners.registry import RunnerFactory
from ail_tui.tui.app import AilApp
from ail_tui.tui.run_view import RunView
from ail_tui.tui.widgets.details import details_text
from ail_tui.tui.widgets.steps_table import StepsTable, cells

SIZE = (140, 36)


def screen_lines(app: AilApp) -> list[str]:
    """The text on screen now (what the terminal shows, not what a widget would draw)."""
    shot = app.export_screenshot()
    return [html.unescape(re.sub(r"<[^>]+>", "", line)).replace("\xa0", " ")
            for line in shot.splitlines()]


def marked_output_line(app: AilApp, line: str, needle: str) -> bool:
    """Whether the output pane shows ``line``, marked, with ``needle`` in it highlighted."""
    view = app.output_view
    lines = view.visible_lines()
    if line not in lines:
        return False
    segments = [s for s in view.render_line(lines.index(line)) if s.text and s.style]
    return any(s.text == needle and s.style.reverse for s in segments) and all(
        s.style.underline for s in segments if s.text.strip())  # type: ignore[union-attr]


# -- 1. going to a match shows its line, marked ------------------------------------------


@pytest.mark.timeout(30)
async def test_a_match_in_a_long_output_is_scrolled_into_view_and_marked(make_app) -> None:
    app = make_app("""
        version: "1"
        pipeline:
          - id: quiet
            context: {shell: "echo nothing"}
          - id: chatty
            context: {shell: "for i in $(seq 1 300); do echo chatty line $i; done"}
        """)
    async with app.run_test(size=SIZE) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.state == "completed")
        assert app.view.rows["chatty"].lines_total == 300
        await pilot.press("slash", *"chatty line 150", "enter")
        await until(pilot, lambda: app.table.selected_step == "chatty"
                    and app.tabs.active == "tab-output"
                    and marked_output_line(app, "chatty line 150", "chatty line 150"))
        title = app.output_view.visible_lines()[0]
        assert "chatty · shell" in title and "match: line 150" in title
        # What the terminal shows, too: the lines around it (the notice names only it).
        await until(pilot, lambda: all(any(f"chatty line {n} " in line + " "
                                           for line in screen_lines(app)) for n in (149, 151)))


@pytest.mark.timeout(30)
async def test_a_match_in_a_response_shows_in_details_and_n_goes_to_the_output(
        make_app) -> None:
    answer = "\n".join(f"answer line {i}" + (" with the needle" if i == 60 else "")
                       for i in range(1, 81))
    app = make_app("""
        version: "1"
        pipeline:
          - id: ask
            prompt: "Say many things"
        """, script={"steps": {"ask": {"response": answer, "delay": 0.05}}})
    async with app.run_test(size=SIZE) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.state == "completed")
        await pilot.press("slash", *"NEEDLE", "enter")
        # Scrolled to it: the lines around it are on screen (the notice names only it).
        await until(pilot, lambda: app.tabs.active == "tab-details" and all(
            any(re.search(rf"answer line {n}\b", line) for line in screen_lines(app))
            for n in (59, 61)))
        match = app.details.mark
        assert match is not None
        assert (match.step_id, match.field, match.number) == ("ask", "response", 59)
        shown = app.details.content
        assert isinstance(shown, Text)
        assert [shown.plain[span.start:span.end] for span in shown.spans
                if isinstance(span.style, Style) and span.style.reverse] == ["needle"]
        await pilot.press("n")  # the same line in the step's output
        await until(pilot, lambda: app.tabs.active == "tab-output" and marked_output_line(
            app, "answer line 60 with the needle", "needle"))
        assert app.output_view.mark is not None and app.output_view.mark.number == 59


# -- 2. steps the run never reached ------------------------------------------------------


@pytest.mark.timeout(30)
async def test_steps_a_cancelled_run_never_reached_say_not_run_live_and_replayed(
        make_app) -> None:
    app = make_app("""
        version: "1"
        pipeline:
          - id: first
            context: {shell: "sleep 30"}
          - id: second
            prompt: "never asked"
          - id: third
            context: {shell: "echo never"}
        """)
    async with app.run_test(size=SIZE) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.rows["first"].status == "running")
        assert app.table.get_cell("second", "status") == "· pending"
        await pilot.press("c")
        await until(pilot, lambda: app.view.state == "cancelled")
        table = app.query_one(StepsTable)
        await until(pilot, lambda: table.get_cell("second", "status") == "○ not run")
        assert table.get_cell("third", "status") == "○ not run"
        assert table.get_cell("first", "status") == "⊘ cancelled"
        await until(pilot, lambda: sum("○ not run" in line for line in screen_lines(app)) == 2)
        why = "not run: the run was cancelled before it reached this step"
        assert why in details_text(app.view.rows["third"]).splitlines()
        app.table.select_step("second")
        app.tabs.active = "tab-details"
        await until(pilot, lambda: why in str(app.details.render()))
        assert "second · prompt · ○ not run" in str(app.details.render())
        # The same run replayed from its log shows the same.
        app.open_replay(RecordedRun.read(Path(app.view.log_path or "")), app.pipeline)
        await until(pilot, lambda: app.replaying and app.view.state == "cancelled")
        assert [cells(app.view.rows[s])[0] for s in ("first", "second", "third")] == [
            "⊘ cancelled", "○ not run", "○ not run"]
        assert why in details_text(app.view.rows["second"]).splitlines()


def test_a_resumed_run_may_yet_reach_the_steps_it_did_not_run() -> None:
    view = RunView()
    second = view.row("second")
    view.apply(ev.RunStarted(at=1.0, pipeline_source="p", run_id="r", total_steps=2))
    view.apply(ev.PipelineError(at=2.0, error="boom", error_type="x", status="aborted"))
    assert (second.status, cells(second)[0]) == ("pending", "○ not run")
    assert details_text(second).splitlines()[1] == (
        "not run: the run was aborted before it reached this step")
    view.apply(ev.RunStarted(at=3.0, pipeline_source="p", run_id="r", total_steps=2,
                             resumed=True))
    assert cells(second)[0] == "· pending" and "not run" not in details_text(second)
    view.apply(ev.PipelineCompleted(at=4.0, outcome="break"))
    assert details_text(second).splitlines()[1] == (
        "not run: the run stopped at a break before it reached this step")
    assert view.counts()["pending"] == 1  # the status stays what the events said


# -- 3. a running step's time counts with the dashboard's clock ---------------------------


@pytest.mark.timeout(30)
async def test_a_running_steps_elapsed_counts_with_the_dashboards_clock(make_app) -> None:
    clock: list[float | None] = [None]  # None: the time of day, until the step starts

    def now() -> float:
        import time

        return clock[0] if clock[0] is not None else time.time()

    app = make_app("""
        version: "1"
        pipeline:
          - id: slow
            context: {shell: "sleep 30"}
        """, clock=now)
    async with app.run_test(size=SIZE) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.rows["slow"].status == "running")
        begun = app.view.rows["slow"].started_at
        assert begun is not None

        def shown_elapsed() -> str:
            lines = screen_lines(app)
            at = next(line for line in lines if " elapsed " in line).index(" elapsed ")
            row = next((line for line in lines if "▶ running" in line and " slow " in line),
                       "")  # not drawn as running yet
            return row[at:at + 9].strip()

        # The row counts with the dashboard's clock, not the time of day.
        for seconds in (0.8, 1.7, 2.4, 3.1):
            clock[0] = begun + seconds
            await until(pilot, lambda seconds=seconds: shown_elapsed() == f"{seconds:.1f}s",
                        timeout=5)
        await pilot.press("c")
        await until(pilot, lambda: app.view.state == "cancelled")


# -- 4. a replayed log tells what kind each step is ---------------------------------------


def log_of_every_kind(tmp_path: Path, *, rust: bool) -> Path:
    at = {} if rust else {"at": ts(0)}
    records = [
        {**RUN_STARTED, **at},
        entry("build", prompt="make", stdout="built\n", stderr="", exit_code=0),
        started("ask", "Say hi", **at) if not rust else {},
        entry("ask", prompt="Say hi", response="hi", runner_session_id="s1", cost_usd=0.01),
        entry("both", prompt="join:[build,ask]", response="built\nhi"),
    ]
    if not rust:
        records += [
            {"at": ts(1), "step_id": "approve", "type": "gate_passed"},
            started("review", "./review.ail.yaml", child_run_id="c0ffee", at=ts(2)),
            entry("review", prompt="./review.ail.yaml", response="fine",
                  runner_session_id="s2"),
            started("again", "do_while(max_iterations=3)", at=ts(3)),
            entry("again", prompt="do_while(max_iterations=3)", response="done", index=2),
            {"at": ts(4), "status": "completed", "type": "run_finished"},
        ]
    return write(tmp_path, [r for r in records if r], name="rust" if rust else "ours")


@pytest.mark.parametrize(("rust", "kinds"), [
    (True, {"build": "shell", "ask": "prompt", "both": "join"}),
    (False, {"build": "shell", "ask": "prompt", "both": "join", "approve": "pause_for_human",
             "review": "pipeline", "again": "loop"}),
])
@pytest.mark.timeout(30)
async def test_a_replayed_log_shows_each_steps_kind(tmp_path: Path, rust: bool,
                                                    kinds: dict[str, str]) -> None:
    app = AilApp(None, replay=RecordedRun.read(log_of_every_kind(tmp_path, rust=rust)),
                 runners=RunnerFactory(), watch_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.state == "completed"
                    and app.table.row_count == len(kinds))
        assert {step: app.table.get_cell(step, "kind") for step in kinds} == kinds
