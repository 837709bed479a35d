"""A run whose copy in ``ail.db`` could not be written says so to every front end: one
``warning`` event (the dashboard's event log, headless NDJSON, attached viewers), before
the run's end, naming the turn log that is whole."""

from __future__ import annotations

import json
from pathlib import Path

from stub_runs import headless_after

from ail_tui.engine import events as ev
from ail_tui.engine.event_codec import decode_event, encode_event
from ail_tui.engine.executor import Executor
from ail_tui.engine.run_types import RunOptions
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.registry import RunnerFactory
from ail_tui.turnlog.reader import read_run

TWO_STEPS = """\
version: "1"
pipeline:
  - id: lint
    prompt: "lint it"
  - id: review
    prompt: "review it"
"""
SAID = "ail.db could not be written"


def _run(tmp_path: Path) -> tuple[Executor, list[ev.Event]]:
    path = tmp_path / "p.ail.yaml"
    path.write_text(TWO_STEPS, encoding="utf-8")
    loaded = check_file(path)
    assert loaded.pipeline is not None
    events: list[ev.Event] = []
    options = RunOptions(runner="stub", runners=RunnerFactory("ok"), cwd=str(tmp_path),
                         log_dir=tmp_path / "runs")
    executor = Executor(loaded.pipeline, options, events.append)
    executor.run()
    return executor, events


def test_a_failed_mirror_is_one_warning_before_the_end(tmp_path: Path) -> None:
    (tmp_path / "ail.db").mkdir()  # no index can be opened there
    executor, events = _run(tmp_path)
    assert executor.log_path is not None
    warnings = [e for e in events if isinstance(e, ev.Warning_)]
    assert len(warnings) == 1, warnings
    [warning] = warnings
    assert SAID in warning.message and str(executor.log_path) in warning.message
    assert warning.step_id is None
    assert isinstance(events[-1], ev.PipelineCompleted)
    assert read_run(executor.log_path).status == "completed"
    again = decode_event(encode_event(warning))  # as a detached run's viewers get it
    assert isinstance(again, ev.Warning_) and again.message == warning.message


def test_a_mirror_that_works_says_nothing(tmp_path: Path) -> None:
    _, events = _run(tmp_path)
    assert not [e for e in events if isinstance(e, ev.Warning_)]
    assert isinstance(events[-1], ev.PipelineCompleted)


def test_headless_runs_print_the_warning_event(tmp_path: Path) -> None:
    (tmp_path / "p.ail.yaml").write_text(TWO_STEPS, encoding="utf-8")
    done = headless_after(tmp_path, f"""
        from ail_tui.turnlog import paths
        paths.project_db({str(tmp_path)!r}).mkdir(parents=True)
    """)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[-1]["type"] == "pipeline_completed"
    warnings = [line for line in lines if line["type"] == "warning"]
    assert len(warnings) == 1 and SAID in warnings[0]["message"]
    assert done.stderr.count(SAID) == 1, done.stderr
