"""``ail-tui resume`` and ``rerun`` end to end: reconcile after a ``kill -9`` in flight, re-running
from a step, resume's refusals, a changed step, and what a crash leaves (a torn last line, a
gate already approved). See ``test_kill_resume.py`` for how runs are killed and counted."""

from __future__ import annotations

import threading
from pathlib import Path

from kill_helpers import (
    PROCESS_TESTS,
    STUB,
    Project,
    completed_as_one_run,
    entries_of,
    resume,
    start_and_kill_at_marker,
    starts,
)
from processes import alive

from ail_tui.processes.marks import run_pids
from ail_tui.turnlog.reader import read_run

pytestmark = PROCESS_TESTS


# -- c: reconcile -----------------------------------------------------------------------


def test_a_step_killed_in_flight_is_reconciled_on_resume(project: Project) -> None:
    pipeline = project.pipeline("reconcile.ail.yaml")
    run_id, log = start_and_kill_at_marker(project, pipeline, "deploy")
    resumed = resume(project, run_id)
    assert project.ran() == {"deploy": 1, "first": 1, "reconcile": 1}
    assert (project.work / "ran" / "reconcile").read_text() == f"{run_id} deploy\n"
    record = completed_as_one_run(log, run_id)
    deploy = record.step("deploy")
    assert deploy is not None and deploy.reconciled
    assert [a.status for a in deploy.attempts] == ["interrupted", "done"]
    assert deploy.entry is not None and deploy.entry["stdout"] == "recovered-v42\n"
    assert starts(log, "after") == [None]
    assert entries_of(log, "after")[-1]["prompt"] == "after saw recovered-v42\n"
    done = [e for e in resumed.events if e["type"] == "step_completed"
            and e["step_id"] == "deploy"]
    assert done and done[0].get("reconciled") is True


def test_a_failing_reconcile_fails_the_step(project: Project) -> None:
    pipeline = project.pipeline("reconcile_fails.ail.yaml")
    run_id, log = start_and_kill_at_marker(project, pipeline, "deploy")
    resumed = resume(project, run_id, code=1)
    assert project.ran() == {"deploy": 1, "first": 1, "reconcile": 1}  # deploy not re-run
    failed = [e for e in resumed.events if e["type"] == "step_failed"]
    assert [(e["step_id"], e["error_type"]) for e in failed] == [
        ("deploy", "ail:runner/reconcile-failed")]
    assert "exited with 1: no trace of the deploy" in failed[0]["error"]
    record = read_run(log)
    assert record.status in ("failed", "aborted") and record.resumable
    assert record.error_type == "ail:runner/reconcile-failed"
    deploy = record.step("deploy")
    assert deploy is not None
    assert [a.status for a in deploy.attempts] == ["interrupted", "failed"]
    assert deploy.attempts[-1].error_type == "ail:runner/reconcile-failed"
    assert not [p for p in run_pids(run_id) if alive(p)]


# -- d: rerun, and resume's refusals ----------------------------------------------------


def test_rerun_from_a_step_is_a_new_run_reusing_the_steps_before_it(
        project: Project) -> None:
    pipeline = project.pipeline("rerun.ail.yaml")
    code, first = project.ail("run", str(pipeline), "--headless", *STUB)
    assert code == 0, first.stderr
    old_id = first.events[0]["run_id"]
    code, again = project.ail("rerun", old_id, "--from", "c", "--headless", *STUB)
    assert code == 0, again.stderr
    new_id, new_log = again.events[0]["run_id"], Path(again.events[0]["log_path"])
    assert new_id != old_id and new_log.stem == new_id
    assert project.ran() == {"a": 1, "b": 1, "c": 2}
    record = read_run(new_log)
    assert record.status == "completed"
    assert [(s.step_id, s.reused_from) for s in record.steps] == [
        ("a", old_id), ("b", old_id), ("c", None), ("d", None)]
    assert [starts(new_log, s) for s in "abcd"] == [[], [], [None], [None]]
    assert entries_of(new_log, "d")[-1]["prompt"] == "d saw b-out\n"
    assert "2 step results reused" in again.stderr
    assert read_run(first.events[0]["log_path"]).status == "completed"  # untouched


def test_resuming_a_completed_run_does_nothing(project: Project) -> None:
    pipeline = project.pipeline("rerun.ail.yaml")
    code, first = project.ail("run", str(pipeline), "--headless", *STUB)
    assert code == 0, first.stderr
    run_id, log = first.events[0]["run_id"], Path(first.events[0]["log_path"])
    before = log.read_bytes()
    code, again = project.ail("resume", run_id, "--headless", *STUB)
    assert code == 0
    assert again.events == []
    assert "nothing to resume" in again.stderr
    assert log.read_bytes() == before
    assert project.ran() == {"a": 1, "b": 1, "c": 1}


def test_resuming_an_unknown_run_fails_clearly(project: Project) -> None:
    code, ail = project.ail("resume", "no-such-run", "--headless", *STUB)
    assert code == 1
    assert ail.events == []
    assert ail.stderr.startswith("ail-tui: no run 'no-such-run' found for this directory")


def test_a_step_changed_between_kill_and_resume_runs_again_with_all_after_it(
        project: Project) -> None:
    pipeline = project.pipeline("chain.ail.yaml")
    run_id, log = start_and_kill_at_marker(project, pipeline, "d")
    assert project.ran() == {"a": 1, "b": 1, "c": 1, "d": 1}
    text = pipeline.read_text()
    pipeline.write_text(text.replace("echo b-out", "echo B-out"))  # b, in the middle
    resume(project, run_id)
    assert project.ran() == {"a": 1, "b": 2, "c": 2, "d": 2, "e": 1}
    completed_as_one_run(log, run_id)
    assert [len(starts(log, s)) for s in "abcde"] == [1, 2, 2, 2, 1]
    assert entries_of(log, "b")[-1]["stdout"] == "B-out\n"


# -- what a crash leaves: a torn last line, a gate already approved ---------------------


def test_resuming_a_log_with_a_torn_last_line_keeps_the_resume_record(
        project: Project) -> None:
    pipeline = project.pipeline("rerun.ail.yaml")
    code, first = project.ail("run", str(pipeline), "--headless", *STUB)
    assert code == 0, first.stderr
    run_id, log = first.events[0]["run_id"], Path(first.events[0]["log_path"])
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-2]) + lines[-2][:40])  # d's entry torn, no run_finished
    assert read_run(log).torn_tail
    resume(project, run_id)
    record = read_run(log)
    assert record.status == "completed"
    assert record.warnings == []  # the torn record, never written whole, was cut
    assert len(record.segments) == 2, "run_resumed was glued to the torn line"


def test_an_approved_gate_is_not_asked_again_on_resume(tmp_path: Path) -> None:
    from engine_helpers import load, stub_options

    from ail_tui.engine import events as ev
    from ail_tui.engine.continuing import continue_run
    from ail_tui.engine.local_run import LocalRun

    def go(run: LocalRun) -> list[str]:
        asked: list[str] = []

        def approve(event: ev.Event) -> None:
            if isinstance(event, ev.HitlGateReached):
                asked.append(event.step_id)
                threading.Thread(target=run.answer_gate, args=(event.step_id, True)).start()

        run.subscribe(approve)
        run.start()
        result = run.wait(20)
        assert result is not None and result.status == "completed", result
        return asked

    text = ('version: "1"\npipeline:\n  - id: first\n    prompt: one\n'
            "  - id: gate\n    action: pause_for_human\n  - id: last\n    prompt: two\n")
    interactive = {"interactive": True}
    first = LocalRun(load(tmp_path, text), stub_options(tmp_path, None, interactive))
    assert go(first) == ["gate"]
    [log] = (tmp_path / "runs").glob("*.jsonl")
    lines = log.read_text().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if '"step_id":"last"' in line)
    log.write_text("".join(lines[:cut]))  # crashed after the gate was approved
    going_on = continue_run(read_run(log), stub_options(tmp_path, None, interactive),
                            resume=True)
    assert go(LocalRun(going_on.pipeline, going_on.options)) == []
