"""Rust runs read right: sub-pipelines in run files of their own, loops without iterations."""

from __future__ import annotations

import os
from pathlib import Path

from turn_records import entry, started, write

from ail_tui.engine import events as ev
from ail_tui.engine.recorded_run import RecordedRun
from ail_tui.turnlog.markdown import format_ail_log
from ail_tui.turnlog.reader import read_run

SOURCE = "/w/recursive_self.ail.yaml"


def _run_started(source: str) -> dict[str, str]:
    return {"pipeline_source": source, "project_hash": "5d41", "type": "run_started"}


def _aged(path: Path, mtime: float) -> Path:
    os.utime(path, (mtime, mtime))
    return path


def test_a_recursive_sub_pipeline_step_failed_in_its_child_run(tmp_path: Path) -> None:
    """The recursion fixture: every level's ``recurse`` step is left open, each level's
    run is a file of its own (the child's source is the joined, unnormalised path)."""
    levels = [_aged(write(tmp_path, [
        _run_started(SOURCE if level == 0 else "/w/./recursive_self.ail.yaml"),
        started("recurse", "./recursive_self.ail.yaml")], f"level{level}"),
        1_700_000_000 + level) for level in range(3)]
    top = read_run(levels[0])
    assert top.status == "failed"
    recurse = top.step("recurse")
    assert recurse.status == "failed"
    assert recurse.attempts[0].error == "its sub-pipeline run level1 ended without a result"
    assert read_run(levels[1]).status == "failed"
    innermost = read_run(levels[2])  # no run after it: nothing says how it ended
    assert innermost.status == "interrupted"
    replay = RecordedRun.read(levels[0])
    assert [type(e) for e in replay.events if getattr(e, "step_id", None) == "recurse"] == [
        ev.StepStarted, ev.StepFailed]


def test_an_open_step_without_a_child_run_stays_interrupted(tmp_path: Path) -> None:
    older = _aged(write(tmp_path, [_run_started("/w/child.ail.yaml")], "older"), 1_600_000_000)
    path = _aged(write(tmp_path, [_run_started("/w/p.ail.yaml"),
                                  started("call", "./child.ail.yaml")]), 1_700_000_000)
    assert older.exists()  # an earlier run of the child pipeline is no child of this one
    run = read_run(path)
    assert run.status == "interrupted" and run.step("call").status == "interrupted"


def test_a_rust_do_while_reads_with_its_iterations(tmp_path: Path) -> None:
    """Rust names no iteration: an inner step met again begins the next one."""
    body = []
    for exit_code in (1, 0):
        body += [started("fix::check", "make test"),
                 entry("fix::check", prompt="make test", exit_code=exit_code, stdout="",
                       stderr=""),
                 started("fix::note", "note"), entry("fix::note", prompt="note", response="ok")]
    path = write(tmp_path, [
        _run_started("/w/loop.ail.yaml"), started("fix", "do_while(max_iterations=3)"),
        *body[:4], started("fix::note", "note"),
        {"error_detail": "x", "error_type": "ail:runner/invocation-failed",
         "max_retries": 1, "on_error_action": "retry", "retry_attempt": 1,
         "step_id": "fix::note", "type": "step_error"}, *body[4:],
        entry("fix", prompt="do_while(max_iterations=3)", response="ok", index=2),
        started("after", "done"), entry("after", prompt="done", response="ok")])
    run = read_run(path)
    assert run.status == "completed"
    assert [s.step_id for s in run.steps] == ["fix", "fix::check", "fix::note", "after"]
    assert [a.iteration for a in run.step("fix::check").attempts] == [(1,), (2,)]
    assert [(a.status, a.iteration) for a in run.step("fix::note").attempts] == [
        ("done", (1,)), ("retried", (2,)), ("done", (2,))]
    assert run.step("fix").attempts[0].iteration is None
    assert run.step("after").attempts[0].iteration is None
    assert "## Turn 2 — `fix::check` (iteration 1)" in format_ail_log(run)


def test_nested_rust_loops_count_per_enclosing_iteration(tmp_path: Path) -> None:
    records = [_run_started("/w/p.ail.yaml"), started("o", "for_each(items=2)")]
    for _ in range(2):
        records += [started("o::i", "do_while(max_iterations=2)")]
        for _ in range(2):
            records += [started("o::i::s", "s"), entry("o::i::s", prompt="s", response="r")]
        records += [entry("o::i", prompt="do_while(max_iterations=2)", index=2)]
    records += [entry("o", prompt="for_each(items=2)")]
    run = read_run(write(tmp_path, records))
    assert [a.iteration for a in run.step("o::i").attempts] == [(1,), (2,)]
    assert [a.iteration for a in run.step("o::i::s").attempts] == [(1, 1), (1, 2), (2, 1),
                                                                   (2, 2)]
