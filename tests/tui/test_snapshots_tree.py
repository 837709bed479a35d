"""SVG snapshots of the steps tree (issue 14): a replayed run with a before/then chain, a
do_while loop and a sub-pipeline (its steps read from the child run's own log), at
200×50, 100×30 and 80×24, and with a status filter on."""

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

FIXED_CLOCK = 1_800_000_000.0
CHILD_RUN = "c0ffee00-0000-4000-8000-000000000001"
PIPELINE = """
    version: "1"
    pipeline:
      - id: plan
        prompt: "Plan the release"
        before: ["Collect the open issues"]
        then: ["Summarise the plan"]
      - id: polish
        do_while:
          max_iterations: 2
          exit_when: "{{ step.lint.exit_code }} == 0"
          steps:
            - id: lint
              context: {shell: "ruff check ."}
            - id: note
              prompt: "Note the iteration"
      - id: sub
        pipeline: ./child.ail.yaml
      - id: ship
        prompt: "Ship it"
    """
CHILD = """
    version: "1"
    pipeline:
      - id: fetch
        context: {shell: "git fetch"}
      - id: check
        context: {shell: "make check"}
        on_error: continue
    """


def stamp(seconds: float) -> str:
    return format_timestamp(FIXED_CLOCK + seconds)


def done(step_id: str, begin: float, end: float, **fields: object) -> list[dict[str, Any]]:
    """A step's start and its entry."""
    return [{"at": stamp(begin), "prompt": "p", "step_id": step_id, "type": "step_started",
             **({"child_run_id": fields.pop("child_run_id")} if "child_run_id" in fields
                else {})},
            {**FIXED, "step_id": step_id, "prompt": "p", "started_at": stamp(begin),
             "completed_at": stamp(end), **fields}]


def run_records(scene: Path) -> list[dict[str, Any]]:
    return [
        {"at": stamp(0), "pipeline_source": str(scene), "project_hash": "h",
         "type": "run_started"},
        *done("plan::before::0", 0, 1, response="3 issues", model="claude-sonnet-4-5"),
        *done("plan", 1, 2.5, response="the plan", model="claude-sonnet-4-5",
              cost_usd=0.0123, input_tokens=1200, output_tokens=300),
        *done("plan::then::0", 2.5, 3, response="one line", model="claude-sonnet-4-5"),
        {"at": stamp(3), "prompt": "do_while(max_iterations=2)", "step_id": "polish",
         "type": "step_started"},
        *done("polish::lint", 3, 4, exit_code=0, stdout="All good\n"),
        *done("polish::note", 4, 5, response="noted"),
        {**FIXED, "step_id": "polish", "prompt": "do_while(max_iterations=2)",
         "response": "noted", "started_at": stamp(3), "completed_at": stamp(5)},
        *done("sub", 5, 8, child_run_id=CHILD_RUN, response="checked"),
        {"at": stamp(8), "prompt": "Ship it", "step_id": "ship", "type": "step_started"},
        {"at": stamp(9), "error_detail": "the registry is down",
         "error_type": "ail:runner/invocation-failed", "on_error_action": "abort_pipeline",
         "step_id": "ship", "type": "step_error"},
        {"at": stamp(9.1), "error": "the registry is down",
         "error_type": "ail:runner/invocation-failed", "status": "failed",
         "type": "run_finished"},
    ]


def child_records() -> list[dict[str, Any]]:
    return [
        {"at": stamp(5), "pipeline_source": "child.ail.yaml", "project_hash": "h",
         "type": "run_started"},
        *done("fetch", 5, 6, exit_code=0, stdout="fetched\n"),
        {"at": stamp(6), "prompt": "make check", "step_id": "check", "type": "step_started"},
        {"at": stamp(7.5), "error_detail": "2 checks failed",
         "error_type": "ail:runner/invocation-failed", "on_error_action": "continue",
         "step_id": "check", "type": "step_error"},
        {"at": stamp(7.9), "status": "completed", "type": "run_finished"},
    ]


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_scene(tmp_path, monkeypatch, CHILD, "child.ail.yaml")
    path = write_scene(tmp_path, monkeypatch, PIPELINE)
    runs = tmp_path / "runs"
    runs.mkdir()
    write(runs, child_records(), name=CHILD_RUN)
    write(runs, run_records(path), name="parent")
    return path


def _app(path: Path) -> AilApp:
    return AilApp(path, runner="stub", runners=RunnerFactory(), watch_files=False,
                  clock=lambda: FIXED_CLOCK)


def replayed(keys: tuple[str, ...] = ()) -> Callable[[Any], Awaitable[None]]:
    """Once validated, replay the scene's run; once its sub-pipeline's rows are read,
    press ``keys``."""

    async def replay(pilot: Any) -> None:
        app = pilot.app
        await until(pilot, lambda: app.result is not None and app.runner_checks is not None)
        log = Path(app.pipeline_path).parent / "runs" / "parent.jsonl"
        app.open_replay(RecordedRun.read(log), app.pipeline)
        await until(pilot, lambda: "sub::check" in app.table.shown_ids)
        await pilot.press(*keys)
        await pilot.pause()

    return replay


@pytest.mark.parametrize("size", [(200, 50), (100, 30), (80, 24)])
def test_steps_tree(snap_compare, scene: Path, size: tuple[int, int]) -> None:
    assert snap_compare(_app(scene), terminal_size=size, run_before=replayed())


def test_steps_tree_failed_only(snap_compare, scene: Path) -> None:
    assert snap_compare(_app(scene), terminal_size=(100, 30),
                        run_before=replayed(("v", "v")))
