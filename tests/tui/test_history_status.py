"""The history screen shows run statuses as ``ail-tui logs`` does: glyph, word, and
``· resumable`` on the runs ``ail-tui resume`` can continue."""

from __future__ import annotations

import json
from pathlib import Path

from textual.app import App
from textual.widgets import DataTable, Label

from ail_tui.tui.screens.history import HistoryScreen
from ail_tui.turnlog.reader import read_run
from ail_tui.turnlog.store import RunSummary

FIXED = {"cost_usd": None, "exit_code": None, "input_tokens": 0, "modified": None,
         "output_tokens": 0, "prompt": "", "response": None, "runner_session_id": None,
         "stderr": None, "stdout": None, "thinking": None, "tool_events": []}


def summary(tmp_path: Path, name: str, *ending: dict) -> RunSummary:
    records = [{"at": "2026-04-14T10:00:00.000Z", "pipeline_source": "/w/p.ail.yaml",
                "project_hash": "h", "type": "run_started"},
               {"at": "2026-04-14T10:00:01.000Z", "prompt": "a", "step_id": "a",
                "type": "step_started"}, *ending]
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return RunSummary.of(read_run(path))


def end(status: str) -> dict:
    return {"at": "2026-04-14T10:00:02.000Z", "status": status, "type": "run_finished"}


class HistoryApp(App[None]):
    def __init__(self, runs: list[RunSummary]) -> None:
        super().__init__()
        self.runs = runs

    def on_mount(self) -> None:
        self.push_screen(HistoryScreen(self.runs))


async def test_statuses_and_the_resumable_mark(tmp_path: Path) -> None:
    runs = [summary(tmp_path, "crashed"),
            summary(tmp_path, "failed", end("failed")),
            summary(tmp_path, "cancelled", end("cancelled")),
            summary(tmp_path, "done", {**FIXED, "step_id": "a"}, end("completed")),
            summary(tmp_path, "resumed", {"at": "2026-04-14T10:00:05.000Z",
                                          "type": "run_resumed"},
                    {**FIXED, "step_id": "a"}, end("completed"))]
    app = HistoryApp(runs)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one(DataTable)
        status = [str(table.get_row_at(row)[1]) for row in range(table.row_count)]
        assert status == ["? interrupted · resumable", "✗ failed · resumable",
                          "⊘ cancelled · resumable", "✓ completed", "✓ completed"]
        title = str(screen.query_one("#dialog-title", Label).render())
        assert title.endswith("enter opens one; R resumes a resumable one")


async def test_no_hint_when_nothing_is_resumable(tmp_path: Path) -> None:
    app = HistoryApp([summary(tmp_path, "done", {**FIXED, "step_id": "a"}, end("break"))])
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert str(table.get_row_at(0)[1]) == "✓ break"
        title = str(app.screen.query_one("#dialog-title", Label).render())
        assert "resumable" not in title
