"""SVG snapshots of the main screens at fixed sizes (update with --snapshot-update)."""

from __future__ import annotations

import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pilot_waits import until
from turn_records import FIXED, write

from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.runners.registry import RunnerFactory
from ail_tui.tui.app import AilApp

FIXED_CLOCK = 1_800_000_000.0  # every time on screen derives from this or the log

PIPELINE = """
    version: "0.1"
    defaults: {max_concurrency: 2}
    pipeline:
      - id: lint
        async: true
        context: {shell: "ruff check ."}
      - id: test
        async: true
        prompt: "Run the tests"
      - id: deploy
        async: true
        depends_on: [test]
        prompt: "Deploy a preview"
      - id: checks
        action: join
        depends_on: [lint, test, deploy]
        on_error: fail_fast
      - id: ship
        prompt: "Ship it: {{ step.checks.response }}"
        condition: "{{ step.checks.response }} contains passed"
    """



def stamp(seconds: float) -> str:
    from ail_tui.turnlog.timestamps import format_timestamp

    return format_timestamp(FIXED_CLOCK + seconds)


def run_started(scene: Path) -> dict[str, object]:
    """The first record of a run of the scene's pipeline."""
    return {"at": stamp(0), "pipeline_source": str(scene), "project_hash": "h",
            "type": "run_started"}


def replaying(log: Path) -> Callable[[Any], Awaitable[None]]:
    """Once the scene is validated, open ``log`` as a replay of its pipeline."""

    async def replayed(pilot: Any) -> None:
        await validated(pilot)  # the replay lists the steps of the pipeline it ran
        pilot.app.open_replay(RecordedRun.read(log), pilot.app.pipeline)
        await pilot.pause()

    return replayed


def write_scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipeline: str,
                name: str = "p.ail.yaml") -> Path:
    """``pipeline`` as ``name`` in ``tmp_path``, the working directory, with times shown
    in UTC."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    path = tmp_path / name
    path.write_text(textwrap.dedent(pipeline).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return write_scene(tmp_path, monkeypatch, PIPELINE)


def _app(path: Path) -> AilApp:
    return AilApp(path, runner="stub", runners=RunnerFactory(), watch_files=False,
                  clock=lambda: FIXED_CLOCK)


async def validated(pilot) -> None:
    """Wait for the first verdict and, for a valid file, its runner check (worker threads);
    then let the screen take in every message they posted."""
    app = pilot.app

    def settled() -> bool:
        result = app.result
        return result is not None and (not result.valid or app.runner_checks is not None)

    await until(pilot, settled)
    await pilot.pause()


def test_plan_screen(snap_compare, scene: Path) -> None:
    async def show_plan(pilot) -> None:
        await validated(pilot)
        await pilot.press("t", "t", "t", "t", "t")
        await pilot.pause(0.1)

    assert snap_compare(_app(scene), terminal_size=(100, 28), run_before=show_plan)


def test_problems_screen(snap_compare, scene: Path) -> None:
    scene.write_text('version: "1"\npipeline:\n  - id: a\n    action: explode\n'
                     "  - id: a\n    promt: hi\n    prompt: hi\n")

    assert snap_compare(_app(scene), terminal_size=(100, 28), run_before=validated)


def lint_done_test_started(group: str) -> list[dict[str, object]]:
    """The branches' first records: ``lint`` done in 1.5 s, ``test`` started at 0.1 s."""
    return [
        {**FIXED, "step_id": "lint", "prompt": "ruff check .", "stdout": "All good\n",
         "exit_code": 0, "concurrent_group": group, "launched_at": stamp(0),
         "started_at": stamp(0), "completed_at": stamp(1.5)},
        {"at": stamp(0.1), "prompt": "Run the tests", "step_id": "test",
         "concurrent_group": group, "launched_at": stamp(0.0), "type": "step_started"},
    ]


def test_timeline_after_fail_fast(snap_compare, scene: Path, tmp_path: Path) -> None:
    group = "cg-5ca1ab1e"
    records = [
        run_started(scene),
        *lint_done_test_started(group),
        {"at": stamp(2.0), "error_detail": "3 tests failed",
         "error_type": "ail:runner/invocation-failed", "on_error_action": "abort_pipeline",
         "step_id": "test", "type": "step_error"},
        {"at": stamp(2.0), "cancelled_by": "fail_fast", "reason": "dependency 'test' failed",
         "concurrent_group": group, "launched_at": stamp(0.0), "step_id": "deploy",
         "type": "step_cancelled"},
        {"at": stamp(2.1), "error": "Join dependency 'test' failed (fail_fast)",
         "error_type": "ail:pipeline/aborted", "status": "aborted", "type": "run_finished"},
    ]
    assert snap_compare(_app(scene), terminal_size=(120, 30),
                        run_before=replaying(write(tmp_path, records)))


def test_permission_dialog(snap_compare, scene: Path) -> None:
    from ail_tui.tui.screens.dialogs import PermissionDialog

    async def ask(pilot) -> None:
        await validated(pilot)
        await pilot.app.push_screen(PermissionDialog("test", "Bash", {
            "command": "pytest -q tests/\n  --maxfail=1",
            "description": "Run the tests [bold]as asked[/bold]",
            "timeout": 120000}))
        await pilot.pause(0.1)

    assert snap_compare(_app(scene), terminal_size=(100, 28), run_before=ask)


def test_timeline_of_a_resumed_rerun(snap_compare, scene: Path, tmp_path: Path) -> None:
    """A re-run (lint and test reused from an earlier run) killed while deploying, then
    resumed: deploy is recovered by its reconcile command, the rest runs."""
    group, earlier = "cg-5ca1ab1e", "0ld0a1b2-0000-4000-8000-000000000000"
    records = [
        run_started(scene),
        {**FIXED, "step_id": "lint", "prompt": "ruff check .", "stdout": "All good\n",
         "exit_code": 0, "concurrent_group": group, "launched_at": stamp(0),
         "completed_at": stamp(0), "reused_from": earlier},
        {**FIXED, "step_id": "test", "prompt": "Run the tests", "response": "42 passed",
         "concurrent_group": group, "launched_at": stamp(0), "completed_at": stamp(0),
         "reused_from": earlier},
        {"at": stamp(0.1), "prompt": "Deploy a preview", "step_id": "deploy",
         "concurrent_group": group, "launched_at": stamp(0.0), "type": "step_started"},
        {"at": stamp(3.0), "type": "run_resumed"},
        {"at": stamp(3.1), "prompt": "reconcile: ./deployed.sh", "step_id": "deploy",
         "concurrent_group": group, "launched_at": stamp(3.0), "type": "step_started"},
        {**FIXED, "step_id": "deploy", "prompt": "reconcile: ./deployed.sh",
         "response": "preview is live", "concurrent_group": group, "reconciled": True,
         "launched_at": stamp(3.0), "started_at": stamp(3.1), "completed_at": stamp(3.4)},
        {**FIXED, "step_id": "checks", "prompt": "join:[lint,test,deploy]",
         "response": "passed", "launched_at": stamp(3.4), "completed_at": stamp(3.4)},
        {"at": stamp(3.5), "prompt": "Ship it: passed", "step_id": "ship",
         "type": "step_started"},
        {**FIXED, "step_id": "ship", "prompt": "Ship it: passed", "response": "Shipped.",
         "launched_at": stamp(3.5), "completed_at": stamp(4.5)},
        {"at": stamp(4.6), "status": "completed", "type": "run_finished"},
    ]
    assert snap_compare(_app(scene), terminal_size=(120, 30),
                        run_before=replaying(write(tmp_path, records)))
