"""Permission requests of the real Claude Code CLI, answered by the person through ail-tui.

Not headless, the runner passes ``--permission-prompt-tool`` with an MCP server of ours
instead of ``--dangerously-skip-permissions``: each tool use the CLI wants permission for
reaches the run's asker (the dashboard's dialog), and the answer reaches the CLI. Driven
through the runner, the engine and the dashboard (Pilot), against the loopback API.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from anthropic_api import write_then_text, writes_then_text
from claude_cli import the_line
from person import Person
from pilot_waits import until
from real_claude import ROOT, RealClaude, left_behind, wait_until
from tmux_session import Tmux, needs_tmux

from ail_tui.cancel import Cancellation, CancelToken
from ail_tui.engine import events as ev
from ail_tui.engine.executor import Executor
from ail_tui.engine.run_types import RunOptions
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.loader import load_pipeline
from ail_tui.runners.permissions import (
    DENIED_BY_PERSON,
    PermissionDecision,
    PermissionRequest,
)
from ail_tui.tui.app import AilApp
from ail_tui.tui.screens.dialogs import PermissionDialog

WRITE_STEP = 'version: "1"\npipeline:\n  - id: write\n    prompt: "Write out.txt"\n'

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                                reason="finds the CLI's processes through /proc")


def _denial_warnings(events: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e for e in events if e["type"] == "warning" and "denied" in str(e.get("message"))]


@pytest.mark.timeout(60)
def test_allowed_once_the_tool_runs(claude: RealClaude) -> None:
    target = claude.project / "out.txt"
    claude.api.play(write_then_text(str(target)))
    person = Person(PermissionDecision(allow=True))
    call = claude.invoke("Write out.txt", headless=False, permissions=person)
    call.ok()
    [asked] = person.asked
    assert (asked.step_id, asked.tool_name, asked.tool_use_id) == (
        "ask", "Write", "toolu_01LoopbackWrite")
    assert asked.input == {"file_path": str(target), "content": "x"}
    assert target.read_text() == "x"
    [result] = call.of("tool_result")
    assert not result.get("is_error")
    assert _denial_warnings([e for _, e in call.events]) == []


@pytest.mark.timeout(60)
def test_denied_with_a_reason_the_agent_is_told_the_reason(claude: RealClaude) -> None:
    target = claude.project / "out.txt"
    claude.api.play(write_then_text(str(target)))
    person = Person(PermissionDecision(allow=False, reason="Not in this folder"))
    call = claude.invoke("Write out.txt", headless=False, permissions=person)
    result = call.ok()
    assert not target.exists()
    [told] = claude.api.messages_requests()[-1].tool_results()
    assert (told["content"], told["is_error"]) == ("Not in this folder", True)
    [use] = [e for e in result.tool_events if e["event_type"] == "tool_call"]
    assert use["denied"] is True
    # The person denied it: no "claude denied …, allow it with tools:" advice.
    assert _denial_warnings([e for _, e in call.events]) == []


@pytest.mark.timeout(60)
def test_allowed_for_the_step_the_tool_is_not_asked_about_again(claude: RealClaude) -> None:
    first, second = claude.project / "one.txt", claude.project / "two.txt"
    claude.api.play(writes_then_text(str(first), str(second)))
    person = Person(PermissionDecision(allow=True, for_step=True))
    claude.invoke("Write two files", headless=False, permissions=person).ok()
    assert [r.tool_name for r in person.asked] == ["Write"]
    assert (first.read_text(), second.read_text()) == ("line 1\n", "line 2\n")

    # A new step (a new invocation) asks again.
    claude.api.play(writes_then_text(str(claude.project / "three.txt")))
    again = Person(PermissionDecision(allow=True))
    claude.invoke("Write a file", headless=False, permissions=again).ok()
    assert [r.tool_name for r in again.asked] == ["Write"]


@pytest.mark.timeout(60)
def test_cancelled_while_the_person_decides_ends_at_once_and_leaves_no_process(
        claude: RealClaude) -> None:
    claude.api.play(write_then_text(str(claude.project / "out.txt")))
    asked, released = threading.Event(), threading.Event()

    def undecided(request: PermissionRequest) -> PermissionDecision:
        asked.set()
        released.wait(30)
        return PermissionDecision(allow=False)

    cancel = CancelToken()
    calls = []
    worker = threading.Thread(target=lambda: calls.append(claude.invoke(
        "Write out.txt", recorded=False, cancel=cancel, headless=False,
        permissions=undecided)), daemon=True)
    worker.start()
    try:
        assert asked.wait(30), "the CLI never asked for permission"
        assert left_behind(claude.tag, 0), "the CLI and its MCP server should be running"
        sent = time.monotonic()
        cancel.cancel(Cancellation("user", "test"))
        worker.join(10)
        [call] = calls
        assert call.failed().error_type == ErrorType.RUNNER_CANCELLED
        assert call.ended - sent < 1.0
        assert left_behind(claude.tag, 1.0) == []
    finally:
        released.set()


@pytest.mark.timeout(90)
def test_the_engine_asks_whoever_watches_and_records_the_answer(
        claude: RealClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    target = claude.project / "out.txt"
    claude.api.play(write_then_text(str(target)))
    monkeypatch.setenv("PATH", f"{claude.bare_bin}{os.pathsep}{os.environ['PATH']}")
    pipeline_file = claude.project / "write.ail.yaml"
    pipeline_file.write_text(WRITE_STEP, encoding="utf-8")
    events: list[ev.Event] = []
    executor: Executor | None = None

    def watch(event: ev.Event) -> None:
        events.append(event)
        if isinstance(event, ev.PermissionRequested):
            assert executor is not None
            assert executor.answer_permission(event.request_id, PermissionDecision(True))

    loaded = load_pipeline(pipeline_file).pipeline
    assert loaded is not None
    executor = Executor(loaded, RunOptions(
        runner="claude", interactive=True, cwd=str(claude.project),
        log_dir=claude.ail_home), watch)
    result = executor.run()
    assert result.succeeded, result.error
    assert target.read_text() == "x"
    [requested] = [e for e in events if isinstance(e, ev.PermissionRequested)]
    [answered] = [e for e in events if isinstance(e, ev.PermissionAnswered)]
    assert (requested.step_id, requested.tool_name, requested.tool_use_id) == (
        "write", "Write", "toolu_01LoopbackWrite")
    assert requested.tool_input["file_path"] == str(target)
    assert (answered.request_id, answered.decision) == (requested.request_id, "once")
    assert not executor.human.permissions.waiting()


async def _dashboard_run(claude: RealClaude, monkeypatch: pytest.MonkeyPatch,
                         answer: Callable[[Any], Awaitable[None]]) -> tuple[AilApp, str]:
    """Run WRITE_STEP (a Write of out.txt) in the dashboard, ``answer`` the dialog.

    Returns the app and the step's details after the run.
    """
    claude.api.play(write_then_text(str(claude.project / "out.txt")))
    monkeypatch.setenv("PATH", f"{claude.wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("AIL_HOME", str(claude.ail_home))
    monkeypatch.chdir(claude.project)
    path = claude.project / "write.ail.yaml"
    path.write_text(WRITE_STEP, encoding="utf-8")
    app = AilApp(path, runner="claude", watch_files=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.pipeline is not None and app.runner_checks is not None)
        assert [c.available for c in app.runner_checks or []] == [True]
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, PermissionDialog), timeout=30)
        # Ready once its safe default has the focus: enter alone never allows.
        await until(pilot, lambda: getattr(app.focused, "id", None) == "deny")
        shown = str(app.screen.query_one("#permission-input").query_one("Static").render())
        assert "file_path: " + str(claude.project / "out.txt") in shown
        assert app.view.rows["write"].status == "waiting"
        await until(pilot, lambda: "⏸ permission for Write waiting (write) — g to answer"
                    in str(app.status.render()))
        await answer(pilot)
        await until(pilot, lambda: not app.view.running, timeout=30)
        app.table.select_step("write")
        app.tabs.active = "tab-details"
        await pilot.pause()
        return app, str(app.details.render())


@pytest.mark.timeout(90)
async def test_dashboard_dialog_allows_and_the_table_shows_the_cli_accounting(
        claude: RealClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    async def allow_once(pilot: Any) -> None:
        await pilot.press("a")

    app, details = await _dashboard_run(claude, monkeypatch, allow_once)
    assert app.view.state == "completed", app.view.error
    assert (claude.project / "out.txt").read_text() == "x"
    assert "✓ Write: allowed once" in details
    lines = claude.cli_lines()
    final = the_line(lines, "result")
    shown = {column: app.table.get_cell("write", column)
             for column in ("tokens", "cost", "model")}
    assert shown == {
        "tokens": f"{final['usage']['input_tokens']}/{final['usage']['output_tokens']}",
        "cost": f"${final['total_cost_usd']:.4f}",
        "model": the_line(lines, "system", "init")["model"],
    }


@pytest.mark.timeout(90)
async def test_dashboard_dialog_denies_with_the_reason_typed(
        claude: RealClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    async def deny_with_reason(pilot: Any) -> None:
        await pilot.click("#reason")
        await until(pilot, lambda: getattr(pilot.app.focused, "id", None) == "reason")
        await pilot.press(*"not here", "enter")

    app, details = await _dashboard_run(claude, monkeypatch, deny_with_reason)
    assert app.view.state == "completed", app.view.error
    assert not (claude.project / "out.txt").exists()
    [told] = claude.api.messages_requests()[-1].tool_results()
    assert told["content"] == "not here"
    assert "✗ Write: denied (not here)" in details
    wait_until(lambda: left_behind(claude.tag, 0) == [], 2, "the CLI to exit")


@needs_tmux
@pytest.mark.timeout(90)
def test_in_a_real_terminal_the_dialog_answers_the_cli(claude: RealClaude) -> None:
    """The dashboard program in tmux: r, the dialog names the tool and file, d denies."""
    claude.api.play(write_then_text(str(claude.project / "out.txt")))
    (claude.project / "write.ail.yaml").write_text(WRITE_STEP, encoding="utf-8")
    env = {"PATH": f"{claude.bare_bin}{os.pathsep}{os.environ['PATH']}",
           "AIL_HOME": str(claude.ail_home), "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    exports = " ".join(f"{name}='{value}'" for name, value in env.items())
    term = Tmux(claude.project)
    try:
        term.start(f"cd '{claude.project}' && env {exports} '{sys.executable}' -m ail_tui "
                   "write.ail.yaml --runner claude", width=160, height=40)
        term.wait_for("✓ valid")
        term.keys("r")
        screen = term.wait_for("asks to use Write", timeout=30)
        assert "file_path: " in screen and "out.txt" in screen
        term.keys("d")
        term.wait_for("✓ done", timeout=30)
        assert not (claude.project / "out.txt").exists()
        [told] = claude.api.messages_requests()[-1].tool_results()
        assert told["content"] == DENIED_BY_PERSON
        term.keys("q")
        wait_until(lambda: not term.alive() or "$" in term.screen().strip()[-2:], 10,
                   "the dashboard to quit")
    finally:
        term.close()
    assert left_behind(claude.tag, 2.0) == []
