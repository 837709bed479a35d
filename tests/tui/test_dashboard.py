"""The dashboard driven through Textual's Pilot: save → verdict, run, cancel, gates."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from pilot_waits import start_run, until
from textual.widgets import TabbedContent

from ail_tui.tui.app import UI_SWITCH_INTERVAL, AilApp
from ail_tui.tui.screens.dialogs import GateDialog, HelpScreen, ModifyDialog, PromptDialog
from ail_tui.tui.widgets.steps_table import StepsTable
from ail_tui.tui.widgets.timeline import Timeline

PARALLEL = """
    version: "1"
    pipeline:
      - id: quick
        async: true
        prompt: quick
      - id: slow
        async: true
        context: {shell: "sleep 30"}
      - id: after_quick
        async: true
        depends_on: [quick]
        prompt: after
      - id: all
        action: join
        depends_on: [quick, slow, after_quick]
        on_error: fail_fast
    """


def text_of(app: AilApp, selector: str) -> str:
    widget = app.query_one(selector)
    return str(widget.render())


async def test_valid_pipeline_shows_plan_and_rows(make_app) -> None:
    app = make_app(PARALLEL)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.result is not None)
        assert app.result.valid
        assert "✓ valid" in text_of(app, "#status")
        table = app.query_one(StepsTable)
        await until(pilot, lambda: table.row_count == 4)
        assert table.get_cell("slow", "status") == "· pending"
        plan = text_of(app, "#plan")
        assert "├─◇ slow" in plan and "[join fail_fast] ⇐ quick, slow, after_quick" in plan


async def test_invalid_save_shows_error_and_keeps_last_good(make_app, tmp_path: Path) -> None:
    app = make_app(PARALLEL)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.pipeline is not None)
        good = app.pipeline
        (tmp_path / "p.ail.yaml").write_text(
            'version: "1"\npipeline:\n  - id: a\n    action: explode\n')
        await until(pilot, lambda: app.result is not None and not app.result.valid)
        assert app.pipeline is good
        assert "✗ invalid: 1 error" in text_of(app, "#status")
        assert app.query_one(TabbedContent).active == "tab-problems"
        problems = text_of(app, "#problems")
        assert "p.ail.yaml:4:13: error[ail:config/validation-failed]" in problems
        assert "unknown action 'explode'" in problems
        (tmp_path / "p.ail.yaml").write_text(
            'version: "1"\npipeline:\n  - id: fixed\n    prompt: hi\n')
        await until(pilot, lambda: app.result is not None and app.result.valid)
        assert list(app.view.rows) == ["fixed"]


async def test_run_fail_fast_shows_cancelled_branches(make_app) -> None:
    app = make_app(PARALLEL, script={"steps": {"quick": {"delay": 0.3, "error": "boom"}}})
    async with app.run_test(size=(120, 36)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.state == "aborted")
        rows = app.view.rows
        assert rows["quick"].status == "failed"
        assert rows["slow"].status == "cancelled" and rows["slow"].cancelled_by == "quick"
        assert rows["after_quick"].status == "cancelled"
        table = app.query_one(StepsTable)
        await until(pilot, lambda: table.get_cell("slow", "status") == "⊘ cancelled")
        assert table.selected_step == "quick"
        timeline = app.query_one(Timeline).render_text()
        assert "cancelled by quick" in timeline  # P3: the step whose failure caused it
        assert "aborted" in text_of(app, "#status")
        events = "\n".join(app.event_lines)
        assert "step_cancelled" in events and "pipeline_error" in events


async def test_cancel_run_and_one_branch(make_app) -> None:
    app = make_app("""
        version: "1"
        pipeline:
          - id: a
            async: true
            context: {shell: "sleep 30"}
          - id: b
            async: true
            context: {shell: "sleep 30"}
          - id: j
            action: join
            depends_on: [a, b]
            on_error: wait_for_all
        """)
    async with app.run_test(size=(120, 36)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.rows["a"].status == "running"
                    and app.view.rows["b"].status == "running")
        table = app.query_one(StepsTable)
        table.select_step("a")
        await pilot.press("x")
        await until(pilot, lambda: app.view.rows["a"].status == "cancelled")
        assert app.view.rows["a"].cancelled_by == "user"
        assert app.view.rows["b"].status == "running"
        await pilot.press("c")
        await until(pilot, lambda: app.view.state == "cancelled")
        assert app.view.rows["b"].status == "cancelled"


async def test_gate_dialogs(make_app) -> None:
    app = make_app("""
        version: "1"
        pipeline:
          - id: draft
            prompt: draft
          - id: edit
            action: modify_output
            message: "Tidy the draft"
          - id: ship
            action: pause_for_human
            message: "Ship it?"
          - id: done
            prompt: "{{ step.edit.modified }}"
        """)
    async with app.run_test(size=(120, 36)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: isinstance(app.screen, ModifyDialog))
        app.screen.query_one("TextArea").text = "tidied"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, GateDialog))
        assert "Ship it?" in str(app.screen.query_one("#gate-message").render())
        await pilot.press("y")
        await until(pilot, lambda: app.view.state == "completed")
        assert app.view.rows["done"].prompt == "tidied"


async def test_prompt_is_asked_when_the_pipeline_needs_one(make_app) -> None:
    app = make_app("""
        version: "1"
        pipeline:
          - id: echo
            prompt: "do {{ step.invocation.prompt }}"
        """)
    async with app.run_test(size=(120, 36)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press(*"the dishes", "enter")
        await until(pilot, lambda: app.view.state == "completed")
        assert app.view.rows["echo"].prompt == "do the dishes"


async def test_output_pane_follows_selection_and_all_mode(make_app) -> None:
    app = make_app("""
        version: "1"
        pipeline:
          - id: one
            context: {shell: "echo first; echo second"}
          - id: two
            context: {shell: "echo third >&2"}
        """)
    async with app.run_test(size=(120, 36)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.state == "completed")
        app.query_one(StepsTable).select_step("one")
        app.tabs.active = "tab-output"
        await until(pilot, lambda: app.output_view.visible_lines()[1:] == ["first", "second"])
        assert "one · shell · ✓ done" in app.output_view.visible_lines()[0]
        await pilot.press("o")
        await until(pilot, lambda: "two              │ [stderr] third"
                    in app.output_view.visible_lines())


async def test_streamed_text_is_appended_live_to_the_output_pane(make_app) -> None:
    response = "alpha beta\ngamma\n\ndelta epsilon zeta\neta"
    app = make_app("""
        version: "1"
        pipeline:
          - id: talk
            prompt: say things
        """, script={"steps": {"talk": {"response": response, "delay": 1.2, "chunks": 12}}})
    async with app.run_test(size=(120, 36)) as pilot:
        app.tabs.active = "tab-output"
        await start_run(pilot, app)
        seen: list[list[str]] = []
        while app.view.state != "completed":
            await pilot.pause(0.1)
            seen.append(app.output_view.visible_lines()[1:])
        await until(pilot, lambda: app.output_view.visible_lines()[1:] == response.split("\n"))
        partial = [lines for lines in seen if lines and lines != response.split("\n")]
        assert partial, "the text should be on screen while it streams"
        for lines in partial:  # every intermediate screen is a prefix of the final text
            assert response.startswith("\n".join(lines))


async def test_help_lists_bindings_with_ids(make_app) -> None:
    app = make_app(PARALLEL)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query("Static").last().render())
        assert "app.cancel_step" in text and "steps.down" in text
        assert "app.rerun_from" in text and "Resume (history)" in text
        assert "output.follow" in text
        await pilot.press("escape")


async def test_quit_while_running_leaves_no_process(make_app, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    app = make_app(f"""
        version: "1"
        pipeline:
          - id: long
            context: {{shell: "echo $$ > {pid_file}; sleep 30"}}
        """)
    async with app.run_test(size=(100, 30)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: pid_file.exists() and pid_file.read_text().strip() != "")
        await pilot.press("q")
        await asyncio.sleep(0.3)
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text(
    ).split()[2] == "Z"


async def test_history_search_details_and_copy(make_app) -> None:
    app = make_app("""
        version: "1"
        pipeline:
          - id: greet
            context: {shell: "echo hello needle world"}
          - id: other
            context: {shell: "echo nothing here"}
        """)
    async with app.run_test(size=(120, 36)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.state == "completed")
        first_run = app.view.run_id
        await pilot.press("r")
        await until(pilot, lambda: app.view.state == "completed"
                    and app.view.run_id != first_run)
        await pilot.press("slash")
        await pilot.press(*"needle", "enter")
        await until(pilot, lambda: app.table.selected_step == "greet"
                    and app.tabs.active == "tab-output"
                    and "hello needle world" in app.output_view.visible_lines())
        app.tabs.active = "tab-details"
        await until(pilot, lambda: "greet · shell · ✓ done" in str(app.details.render()))
        details = str(app.details.render())
        assert "hello needle world" in details and "exit code: 0" in details
        await pilot.press("y")
        await pilot.press("h")
        await until(pilot, lambda: type(app.screen).__name__ == "HistoryScreen")
        table = app.screen.query_one("DataTable")
        assert table.row_count == 2
        table.move_cursor(row=1)
        await pilot.press("enter")
        await until(pilot, lambda: app.replaying)
        assert app.view.run_id == first_run and app.view.state == "completed"
        assert app.view.rows["greet"].status == "done"
        assert "hello needle world" in list(app.view.rows["greet"].output)
        # The replay is a finished run: its own events, and nothing of the newer run.
        replay = app.current_run
        assert replay is not None and replay.run_id == first_run
        assert replay.wait(0) is not None and not replay.cancel_step("greet")
        assert " run_started " in app.event_lines[0]
        assert " pipeline_completed " in app.event_lines[-1]
        app.tabs.active = "tab-events"
        await until(pilot, lambda: app.event_log.line_count == len(app.event_lines))


async def test_replay_of_a_log_file(make_app, tmp_path: Path) -> None:
    import json

    from ail_tui.engine.recorded_run import RecordedRun

    log = tmp_path / "rust.jsonl"
    fixed = {"cost_usd": 0.0, "exit_code": None, "input_tokens": 0, "modified": None,
             "output_tokens": 0, "prompt": "run a", "response": "stub response",
             "runner_session_id": "stub-session-id", "stderr": None, "stdout": None,
             "thinking": "pondering", "tool_events": []}
    records = [{"pipeline_source": "/w/p.ail.yaml", "project_hash": "h",
                "type": "run_started"},
               {**fixed, "step_id": "a", "concurrent_group": "cg-7f3a91c2",
                "launched_at": "2026-04-14T10:00:00.101Z",
                "completed_at": "2026-04-14T10:00:00.130Z"}]
    log.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    app = make_app(PARALLEL, replay=RecordedRun.read(log))
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.view.rows["a"].status == "done"  # a replay is complete from the start
        assert app.replaying and app.view.state == "completed"
        assert app.table.get_cell("a", "status") == "✓ done"
        app.table.select_step("a")
        await pilot.press("t", "t")  # timeline → output → details
        await until(pilot, lambda: app.tabs.active == "tab-details"
                    and "pondering" in str(app.details.render()))


async def test_autorun_and_hot_reload_notice(make_app, tmp_path: Path) -> None:
    app = make_app("""
        version: "1"
        pipeline:
          - id: long
            context: {shell: "sleep 30"}
        """, autorun=True)
    async with app.run_test(size=(140, 36)) as pilot:
        await until(pilot, lambda: app.view.running)
        first = app.view.run_id
        (tmp_path / "p.ail.yaml").write_text(
            'version: "1"\npipeline:\n  - id: long\n    context: {shell: "sleep 31"}\n')
        await until(pilot, lambda: app.generation == 2, timeout=30)  # a loaded machine's watcher
        await until(pilot, lambda: "pipeline changed since this run started"
                    in text_of(app, "#status"))
        assert app.view.run_id == first and app.view.running
        await pilot.press("c")
        await until(pilot, lambda: app.view.state == "cancelled")
        await pilot.press("r")
        await until(pilot, lambda: app.view.running and app.view.run_id != first)
        assert app.session.generation == app.generation == 2  # the new run, the new file
        await pilot.press("c")
        await until(pilot, lambda: app.view.state == "cancelled")


async def test_watch_run_restarts_after_a_valid_save(make_app, tmp_path: Path) -> None:
    app = make_app("""
        version: "1"
        pipeline:
          - id: long
            context: {shell: "sleep 30"}
        """, autorun=True, watch_run=True)
    async with app.run_test(size=(140, 36)) as pilot:
        await until(pilot, lambda: app.view.running)
        first = app.view.run_id
        (tmp_path / "p.ail.yaml").write_text(
            'version: "1"\npipeline:\n  - id: quick\n    context: {shell: "echo hi"}\n')
        await until(pilot, lambda: app.view.run_id != first and app.view.state == "completed")
        assert list(app.view.rows) == ["quick"]


async def test_command_palette_lists_bindings(make_app) -> None:
    app = make_app(PARALLEL)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.pipeline is not None)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Cancel step [x]" in titles and "Search [slash]" in titles
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        await pilot.press("escape")


async def test_plan_and_header_say_which_runners_are_missing(make_app, tmp_path: Path,
                                                             monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no claude here
    app = make_app("""
        version: "1"
        pipeline:
          - id: local
            prompt: x
          - id: remote
            prompt: y
            runner: claude
        """)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: app.runner_checks is not None)
        assert [(c.name, c.available) for c in app.runner_checks] == [
            ("claude", False), ("stub", True)]
        assert "⚠ unavailable runner: claude" in text_of(app, "#status")
        app.tabs.active = "tab-plan"
        await until(pilot, lambda: "✗ claude unavailable" in text_of(app, "#plan"))
        plan = text_of(app, "#plan")
        assert "not on PATH" in plan
        assert "✓ stub" in plan


async def test_the_interface_thread_gets_longer_time_slices_while_open(make_app) -> None:
    before = sys.getswitchinterval()
    app = make_app(PARALLEL)
    async with app.run_test() as pilot:
        await pilot.pause()  # mounted
        assert sys.getswitchinterval() == pytest.approx(UI_SWITCH_INTERVAL)
    assert sys.getswitchinterval() == pytest.approx(before)


async def test_a_crashed_validation_is_shown_not_silent(
        make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    import ail_tui.tui.pipeline_watch as pipeline_watch

    def crash(path: object) -> None:
        raise RuntimeError("the validator broke")

    monkeypatch.setattr(pipeline_watch, "check_file", crash)
    app = make_app(PARALLEL)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "Could not validate" in text_of(app, "#problems"))
        assert "RuntimeError: the validator broke" in text_of(app, "#problems")
        assert app.tabs.active == "tab-problems"
        assert any("the validator broke" in str(n.message) for n in app._notifications)
        assert app.result is None  # no verdict was made up
