"""SVG snapshots of the dashboard's layouts (issue 14): the default split after a run of
the CI sample (200×50), a maximized table and a maximized pane (100×30), and the
stacked layout of a narrow terminal (80×24). Update with --snapshot-update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pilot_waits import until
from test_snapshots import write_scene
from turn_records import FIXED, write

from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.runners.registry import RunnerFactory
from ail_tui.tui.app import AilApp
from ail_tui.turnlog.timestamps import format_timestamp

FIXED_CLOCK = 1_800_000_000.0  # every time on screen derives from this or the log
SAMPLE = Path(__file__).resolve().parents[2] / "sample_pipelines" / "ci_checks.ail.yaml"
GROUP = "cg-5ca1ab1e"


def stamp(seconds: float) -> str:
    return format_timestamp(FIXED_CLOCK + seconds)


def shell(step_id: str, command: str, stdout: str, start: float, end: float,
          ) -> dict[str, Any]:
    """A finished shell branch of the concurrent group."""
    return {**FIXED, "step_id": step_id, "prompt": command, "stdout": stdout, "stderr": "",
            "exit_code": 0, "concurrent_group": GROUP, "launched_at": stamp(0),
            "started_at": stamp(start), "completed_at": stamp(end)}


def ci_run(scene: Path) -> list[dict[str, Any]]:
    """A run of the CI sample: three checks pass, the preview times out, the smoke test
    that depends on it is cancelled, the join and the summary go on."""
    return [
        {"at": stamp(0), "pipeline_source": str(scene), "project_hash": "h",
         "type": "run_started"},
        shell("lint", "python3 -m py_compile calc.py", "lint: no issues found\n", 0, 0.7),
        shell("test", "python3 -m unittest", "Ran 3 tests\n\nOK\n", 0, 0.8),
        shell("typecheck", "sleep 1; grep -c ' -> ' calc.py",
              "typecheck: 2 annotated functions\n", 0, 1.1),
        {"at": stamp(0.7), "concurrent_group": GROUP, "launched_at": stamp(0),
         "prompt": "echo 'deploying a preview...'; sleep 10", "step_id": "preview",
         "type": "step_started"},
        {"at": stamp(2.7), "error_detail": "Step 'preview' shell command timed out after 2 s",
         "error_type": "ail:runner/invocation-failed", "on_error_action": "abort_pipeline",
         "step_id": "preview", "type": "step_error"},
        {"at": stamp(2.7), "cancelled_by": "preview", "concurrent_group": GROUP,
         "launched_at": stamp(0), "reason": "dependency 'preview' failed",
         "step_id": "smoke", "type": "step_cancelled"},
        {**FIXED, "step_id": "checks", "prompt": "join:[lint,test,typecheck,preview,smoke]",
         "response": "[preview]: <error>", "launched_at": stamp(2.7),
         "completed_at": stamp(2.7)},
        {**FIXED, "step_id": "summary", "prompt": "Summarise these CI results",
         "response": "Lint, tests and type check all passed.", "cost_usd": 0.0123,
         "input_tokens": 1200, "output_tokens": 80, "model": "claude-sonnet-4-20250514",
         "launched_at": stamp(2.7), "started_at": stamp(2.7), "completed_at": stamp(3.7)},
        {"at": stamp(3.8), "status": "completed", "type": "run_finished"},
    ]


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return write_scene(tmp_path, monkeypatch, SAMPLE.read_text(encoding="utf-8"),
                       "ci_checks.ail.yaml")


def _app(path: Path) -> AilApp:
    return AilApp(path, runner="stub", runners=RunnerFactory(), watch_files=False,
                  clock=lambda: FIXED_CLOCK)


def after_the_run(scene: Path, tmp_path: Path, *keys: str,
                  ) -> Callable[[Any], Awaitable[None]]:
    """Once validated, show the run of ``ci_run`` (the failed step selected), then
    press ``keys``."""

    async def shown(pilot: Any) -> None:
        app = pilot.app
        await until(pilot, lambda: app.result is not None and app.runner_checks is not None)
        app.open_replay(RecordedRun.read(write(tmp_path, ci_run(scene))), app.pipeline)
        app.table.select_step("preview")
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause(0.1)
        await pilot.wait_for_scheduled_animations()

    return shown


def test_the_default_split_after_a_run(snap_compare, scene: Path, tmp_path: Path) -> None:
    assert snap_compare(_app(scene), terminal_size=(200, 50),
                        run_before=after_the_run(scene, tmp_path))


def test_a_maximized_table(snap_compare, scene: Path, tmp_path: Path) -> None:
    assert snap_compare(_app(scene), terminal_size=(100, 30),
                        run_before=after_the_run(scene, tmp_path, "z"))


def test_a_maximized_output_pane(snap_compare, scene: Path, tmp_path: Path) -> None:
    assert snap_compare(_app(scene), terminal_size=(100, 30),
                        run_before=after_the_run(scene, tmp_path, "t", "tab", "z"))


def test_the_narrow_layout(snap_compare, scene: Path, tmp_path: Path) -> None:
    assert snap_compare(_app(scene), terminal_size=(80, 24),
                        run_before=after_the_run(scene, tmp_path, "t"))
