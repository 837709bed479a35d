"""SVG snapshots of the end-of-run summary at fixed sizes (update with --snapshot-update)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pilot_waits import until
from test_snapshots import FIXED_CLOCK, lint_done_test_started, stamp, write_scene
from test_snapshots import PIPELINE as CHECKS_PIPELINE
from turn_records import write

from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.runners.registry import RunnerFactory
from ail_tui.tui.app import AilApp
from ail_tui.tui.screens.summary import SummaryScreen

RUN_ID = "5ca1ab1e-0000-4000-8000-000000000000"
PIPELINE = (CHECKS_PIPELINE.replace("    defaults: {max_concurrency: 2}\n", "")
            .replace("on_error: fail_fast", "on_error: wait_for_all")
            .replace('\n        condition: "{{ step.checks.response }} contains passed"', ""))
"""The main snapshots' pipeline, its join waiting for all and its last step unconditional."""


def records(scene: Path) -> list[dict[str, Any]]:
    """A run where the tests fail, the deploy waiting on them is cancelled, and the run
    fails at the join."""
    group = "cg-5ca1ab1e"
    return [
        {"at": stamp(0), "pipeline_source": str(scene), "project_hash": "h",
         "run_id": RUN_ID, "type": "run_started"},
        *lint_done_test_started(group),
        {"at": stamp(42.0), "error_detail": "3 tests failed",
         "error_type": "ail:runner/invocation-failed", "on_error_action": "continue",
         "step_id": "test", "type": "step_error"},
        {"at": stamp(42.0), "cancelled_by": "dependency", "reason": "dependency 'test' failed",
         "concurrent_group": group, "launched_at": stamp(0.0), "step_id": "deploy",
         "type": "step_cancelled"},
        {"at": stamp(42.2), "prompt": "join:[lint,test,deploy]", "step_id": "checks",
         "type": "step_started"},
        {"at": stamp(42.3), "error": "Join dependency 'test' failed",
         "error_type": "ail:pipeline/aborted", "status": "failed", "type": "run_finished"},
    ]


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return write_scene(tmp_path, monkeypatch, PIPELINE)


def summary_of_replay(log: Path) -> Any:
    async def shown(pilot: Any) -> None:
        app = pilot.app
        await until(pilot, lambda: app.result is not None and app.runner_checks is not None)
        await pilot.pause()
        app.open_replay(RecordedRun.read(log), app.pipeline)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.pause(0.1)

    return shown


@pytest.mark.parametrize("size", [(200, 50), (100, 30), (80, 24)], ids=str)
def test_summary_screen(snap_compare, scene: Path, tmp_path: Path,
                        size: tuple[int, int]) -> None:
    app = AilApp(scene, runner="stub", runners=RunnerFactory(), watch_files=False,
                 clock=lambda: FIXED_CLOCK)
    log = write(tmp_path, records(scene), name=RUN_ID)
    assert snap_compare(app, terminal_size=size, run_before=summary_of_replay(log))
