"""The dashboard on real runners' protocol peers: live text, tokens, cost, thinking, tools."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from loopback_server import LoopbackServer

from ail_tui.tui.app import AilApp

TOKEN = "sk-dashboard-secret-8086"

STEPS = f"""
  - id: leak
    context: {{shell: "echo key={TOKEN}"}}
  - id: ask_http
    async: true
    runner: http
    prompt: "say hello"
  - id: ask_claude
    async: true
    runner: claude
    prompt: "[scenario:full] count the tests"
  - id: both
    action: join
    depends_on: [ask_http, ask_claude]
"""


async def until(pilot, condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the dashboard"
        await pilot.pause(0.05)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_claude_bin: Path,
        http_server: LoopbackServer) -> AilApp:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    http_server.scenario.mode = "sse"
    http_server.scenario.chunks = [f"word{i} " for i in range(12)]
    http_server.scenario.chunk_delay = 0.15
    http_server.scenario.usage = (120, 2400)
    path = tmp_path / "p.ail.yaml"
    path.write_text(http_server.pipeline_head(TOKEN) + STEPS.lstrip("\n"), encoding="utf-8")
    return AilApp(path)


async def test_streamed_text_tokens_cost_thinking_and_tools_on_screen(app: AilApp) -> None:
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.runner_checks is not None)
        checks = {c.name: c.available for c in app.runner_checks}
        assert checks == {"claude": True, "http": True}
        app.tabs.active = "tab-output"
        await pilot.press("r")
        await until(pilot, lambda: app.view.running)
        app.table.select_step("ask_http")
        shown = app.output_view.visible_lines
        await until(pilot, lambda: "word2" in "".join(shown()))
        assert app.view.rows["ask_http"].status == "running"  # shown while it streams
        await until(pilot, lambda: not app.view.running)
        assert app.view.state == "completed"
        assert "word0 word1" in "".join(shown()) and "word11" in "".join(shown())

        assert app.table.get_cell("ask_http", "tokens") == "120/2400"
        cost = 120 / 1000 * 0.5 + 2400 / 1000 * 1.5
        assert app.table.get_cell("ask_http", "cost") == f"${cost:.4f}"
        assert app.table.get_cell("ask_claude", "cost") == "$0.0242"
        status = str(app.status.render())
        # The claude step's tokens are its CLI result's: 10 in.
        assert f"${cost + 0.0241875:.4f}" in status and "130/2,520 tok" in status

        app.table.select_step("ask_claude")
        app.tabs.active = "tab-details"
        await pilot.pause(0.3)
        details = str(app.details.render())
        assert "Two files, one shown." in details  # thinking
        assert '→ Glob {"pattern":"tests/**/test_*.py"}' in details
        assert "← tests/test_a.py (+1 lines)" in details

        app.table.select_step("leak")
        for pane in ("tab-timeline", "tab-output", "tab-details", "tab-events", "tab-plan"):
            app.tabs.active = pane
            await pilot.pause(0.2)
            assert TOKEN not in app.export_screenshot(), pane
        assert TOKEN not in "\n".join(app.event_lines)
        assert list(app.view.rows["leak"].output) == ["key=***"]


async def test_api_retries_show_live_in_the_table_output_title_and_events(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_claude_bin: Path) -> None:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-dashboard-key-1")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "p.ail.yaml"
    path.write_text('version: "1"\npipeline:\n  - id: ask\n'
                    '    prompt: "[scenario:api_retry] go"\n', encoding="utf-8")
    app = AilApp(path)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.runner_checks is not None)
        app.tabs.active = "tab-output"
        await pilot.press("r")
        await until(pilot, lambda: app.table.get_cell("ask", "status") == "↻ api 2/10")
        await pilot.pause(0.2)
        assert "API retry 2/10 in 1.2 s (unknown)" in app.output_view.visible_lines()[0]
        await until(pilot, lambda: not app.view.running)
        assert app.table.get_cell("ask", "status") == "✓ done"
        retries = [line for line in app.event_lines if "runner='retry'" in line]
        assert len(retries) == 2 and "API retry 1/10 in 0.5 s (HTTP 429 rate_limit)" in (
            retries[0])
