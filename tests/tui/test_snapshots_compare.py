"""SVG snapshots of the compare screen at three sizes (update with --snapshot-update):
a step that failed in B, a response that differs (selected: its diff below), a step
removed and one added; at 80 columns the least important columns are left out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pilot_waits import until
from turn_records import RUN_STARTED, entry, error, started, ts, write

from ail_tui.run_compare import compare_logs
from ail_tui.tui.app import AilApp
from ail_tui.tui.screens.compare import CompareScreen

REVIEW_A = "The change looks fine.\nTests cover the new branch.\nShip it."
REVIEW_B = "The change looks fine.\nTests miss the error branch.\nAdd a test, then ship it."


def step(step_id: str, begin: float, took: float, **fields: object) -> list[dict[str, Any]]:
    return [started(step_id, at=ts(begin)),
            entry(step_id, started_at=ts(begin), completed_at=ts(begin + took), **fields)]


def older() -> list[dict[str, Any]]:
    return [{**RUN_STARTED, "at": ts(0)},
            *step("lint", 0, 1.5, stdout="All checks passed!\n", exit_code=0),
            *step("test", 1.5, 4.0, response="42 passed", cost_usd=0.0031,
                  input_tokens=900, output_tokens=40),
            *step("review", 5.5, 6.2, response=REVIEW_A, cost_usd=0.0124,
                  input_tokens=3200, output_tokens=210),
            *step("deploy", 11.7, 2.0, stdout="preview is live\n", exit_code=0),
            {"at": ts(14), "status": "completed", "type": "run_finished"}]


def newer() -> list[dict[str, Any]]:
    return [{**RUN_STARTED, "at": ts(600)},
            *step("lint", 600, 1.2, stdout="All checks passed!\n", exit_code=0),
            started("test", at=ts(601.2)),
            error("test", "continue", "3 tests failed", at=ts(606.0)),
            *step("review", 606.0, 9.1, response=REVIEW_B, cost_usd=0.0177,
                  input_tokens=4100, output_tokens=260),
            *step("notify_the_channel", 615.1, 0.3, stdout="sent\n", exit_code=0),
            {"at": ts(615.5), "status": "completed", "type": "run_finished"}]


@pytest.fixture
def comparison(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CompareScreen:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    return CompareScreen(compare_logs(
        write(tmp_path, older(), "0ld0a1b2-0000-4000-8000-000000000000"),
        write(tmp_path, newer(), "ne3c4d5e-0000-4000-8000-000000000000")))


def showing_the_review(screen: CompareScreen) -> Any:
    async def show(pilot: Any) -> None:
        await pilot.app.push_screen(screen)
        await pilot.press("n", "n")  # lint is the same; test failed; review differs
        title = screen.query_one("#compare-diff-title")
        await until(pilot, lambda: "Response of review" in str(title.render()))
        await pilot.pause()

    return show


@pytest.mark.parametrize("size", [(200, 50), (100, 30), (80, 24)])
def test_compare_screen(snap_compare, comparison: CompareScreen, size: tuple[int, int]) -> None:
    assert snap_compare(AilApp(None, watch_files=False), terminal_size=size,
                        run_before=showing_the_review(comparison))
