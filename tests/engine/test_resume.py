"""Resume (D1–D3): a run goes on in its own log; a completed step never runs again.

Each step appends a line to a file of its own when it runs, so a test counts how often
every step ran. A crash is the run's log cut after any record (every record is synced
before what it reports happens, so that is what ``kill -9`` can leave); the tests resume
from every such cut.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import load, read_records, stub_options

from ail_tui.engine import continuing
from ail_tui.engine import events as ev
from ail_tui.engine.continuing import CannotContinue, continue_run
from ail_tui.engine.executor import Executor
from ail_tui.engine.run_types import RunResult
from ail_tui.turnlog import liveness
from ail_tui.turnlog.reader import read_run

pytestmark = pytest.mark.timeout(60)


def counted(step_id: str, extra: str = "") -> str:
    """A shell step that records that it ran."""
    return (f"  - id: {step_id}\n    context:\n      shell: \"echo {step_id} >> ran/{step_id}; "
            f"echo {step_id}-out\"\n{extra}")


PIPELINE = 'version: "1"\npipeline:\n' + counted("first") + counted("second") + (
    "  - id: fan_a\n    async: true\n    context:\n      shell: \"echo a >> ran/fan_a; "
    "echo A\"\n"
    "  - id: fan_b\n    async: true\n    context:\n      shell: \"echo b >> ran/fan_b; "
    "echo B\"\n"
    "  - id: joined\n    action: join\n    depends_on: [fan_a, fan_b]\n"
    "  - id: loop\n    for_each:\n      over: '[1, 2, 3]'\n      steps:\n"
    "        - id: inner\n          context:\n            shell: \"echo {{ for_each.item }} "
    ">> ran/inner; echo i{{ for_each.item }}\"\n"
) + counted("last")


def ran(tmp_path: Path) -> dict[str, int]:
    """How many times each step ran (lines in its file)."""
    folder = tmp_path / "ran"
    return {p.name: len(p.read_text().splitlines()) for p in folder.iterdir()}


def crash(log: Path, at: str | None = None, *, including: bool = False) -> None:
    """Cut ``log`` as a crash would leave it: before the first line holding ``at`` (that
    line kept when ``including``), or, with no ``at``, just before its ``run_finished``."""
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    if at is None:
        cut = len(lines) - 1
    else:
        cut = next(i for i, line in enumerate(lines) if at in line) + int(including)
    log.write_text("".join(lines[:cut]), encoding="utf-8")


def count_afresh(tmp_path: Path) -> None:
    """Forget which steps ran so far."""
    shutil.rmtree(tmp_path / "ran")
    (tmp_path / "ran").mkdir()


def run(tmp_path: Path, text: str, events: list[ev.Event] | None = None,
        script: dict[str, Any] | None = None, **options: Any) -> RunResult:
    sink = events.append if events is not None else None
    return Executor(load(tmp_path, text), stub_options(tmp_path, script, options), sink).run()


def resume(tmp_path: Path, log: Path, events: list[ev.Event] | None = None,
           **options: Any) -> RunResult:
    going_on = continue_run(read_run(log), stub_options(tmp_path, None, options), resume=True)
    sink = events.append if events is not None else None
    return Executor(going_on.pipeline, going_on.options, sink).run()


@pytest.fixture
def full_log(tmp_path: Path) -> list[str]:
    """The lines of a complete run of PIPELINE."""
    (tmp_path / "ran").mkdir()
    result = run(tmp_path, PIPELINE)
    assert result.status == "completed"
    assert result.log_path is not None
    return result.log_path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_resuming_from_every_crash_point_runs_each_unfinished_step_once(
        tmp_path: Path, full_log: list[str]) -> None:
    final_entries = None
    for cut in range(1, len(full_log)):  # the last line is run_finished: nothing to resume
        count_afresh(tmp_path)
        log = tmp_path / "runs" / f"cut-{cut:03d}.jsonl"
        log.write_text("".join(full_log[:cut]), encoding="utf-8")
        before = read_run(log)
        done_before = {s.step_id for s in before.steps if s.status == "done"}
        result = resume(tmp_path, log)
        assert result.status == "completed", (cut, result)
        assert result.run_id == f"cut-{cut:03d}" and result.log_path == log
        counts = ran(tmp_path)
        for step_id in ("first", "second", "fan_a", "fan_b", "last"):
            assert counts.get(step_id, 0) == (0 if step_id in done_before else 1), (
                cut, step_id, counts)
        inner_done = sum(1 for r in read_records(log)[:cut]
                         if r.get("step_id") == "loop::inner" and "type" not in r)
        loop_done = "loop" in done_before
        assert counts.get("inner", 0) == (0 if loop_done else 3 - inner_done), (cut, counts)
        records = read_records(log)
        assert [r["type"] for r in records if r.get("type") in ("run_started", "run_resumed")
                ] == ["run_started", "run_resumed"]
        after = read_run(log)
        assert after.status == "completed"
        entries = {(r["step_id"], tuple(r.get("iteration", ()))): r.get("stdout")
                   for r in records if "type" not in r}
        if final_entries is None:
            final_entries = entries
        assert entries == final_entries, cut  # the same results, wherever it stopped


def test_templates_see_reused_results(tmp_path: Path) -> None:
    (tmp_path / "ran").mkdir()
    text = ('version: "1"\npipeline:\n' + counted("first") +
            "  - id: echo_it\n    prompt: \"got {{ step.first.result }}\"\n")
    first = run(tmp_path, text)
    assert first.status == "completed"
    log = first.log_path
    assert log is not None
    crash(log, '"step_id":"echo_it"')
    events: list[ev.Event] = []
    assert resume(tmp_path, log, events).status == "completed"
    assert ran(tmp_path)["first"] == 1  # from the first run only
    entry = [r for r in read_records(log) if r.get("step_id") == "echo_it" and "type" not in r]
    assert entry[-1]["prompt"].strip() == "got first-out"
    reused = [e for e in events if isinstance(e, ev.StepCompleted) and e.reused_from]
    assert [e.step_id for e in reused] == ["first"] and reused[0].reused_from == first.run_id
    started = [e for e in events if isinstance(e, ev.RunStarted)]
    assert started[0].resumed is True and started[0].to_json()["resumed"] is True


def test_a_failed_run_resumes_from_the_failed_step(tmp_path: Path) -> None:
    (tmp_path / "ran").mkdir()
    text = ('version: "1"\npipeline:\n' + counted("first") +
            "  - id: flaky\n    context:\n      shell: \"echo x >> ran/flaky\"\n"
            "  - id: gate\n    prompt: \"{{ step.flaky.result }}\"\n"
            + counted("last"))
    failed = run(tmp_path, text, script={"steps": {"gate": {"error": "overloaded"}}})
    assert failed.status == "failed" and failed.step_id == "gate"
    log = failed.log_path
    assert log is not None
    result = resume(tmp_path, log)  # the runner answers this time
    assert result.status == "completed"
    assert ran(tmp_path) == {"first": 1, "flaky": 1, "last": 1}
    kinds = [r.get("type") for r in read_records(log)]
    assert kinds.count("run_finished") == 2 and kinds.count("run_resumed") == 1


def test_a_changed_step_runs_again_with_everything_after_it(tmp_path: Path) -> None:
    (tmp_path / "ran").mkdir()
    text = 'version: "1"\npipeline:\n' + counted("first") + counted("middle") + counted("last")
    done = run(tmp_path, text)
    assert done.status == "completed" and done.log_path is not None
    crash(done.log_path)  # just before run_finished
    count_afresh(tmp_path)
    (tmp_path / "p.ail.yaml").write_text(text.replace("echo middle-out", "echo MIDDLE"))
    assert resume(tmp_path, done.log_path).status == "completed"
    assert ran(tmp_path) == {"middle": 1, "last": 1}


def test_a_step_in_flight_is_reconciled(tmp_path: Path) -> None:
    (tmp_path / "ran").mkdir()
    text = ('version: "1"\npipeline:\n' + counted("first") +
            "  - id: deploy\n    context:\n      shell: \"echo d >> ran/deploy; echo deployed\"\n"
            "    reconcile:\n      shell: \"echo found $AIL_STEP_ID of $AIL_RUN_ID\"\n"
            + counted("last"))
    done = run(tmp_path, text)
    log = done.log_path
    assert log is not None
    crash(log, '"step_id":"deploy","type":"step_started"', including=True)  # deploy began
    count_afresh(tmp_path)
    events: list[ev.Event] = []
    assert resume(tmp_path, log, events).status == "completed"
    assert ran(tmp_path) == {"last": 1}
    entry = [r for r in read_records(log) if r.get("step_id") == "deploy" and "type" not in r]
    assert entry[-1]["reconciled"] is True
    assert entry[-1]["stdout"] == f"found deploy of {done.run_id}\n"
    assert any(isinstance(e, ev.StepCompleted) and e.step_id == "deploy" and e.reconciled
               for e in events)


def test_a_failing_reconcile_fails_the_step_and_its_retry_runs_it(tmp_path: Path) -> None:
    (tmp_path / "ran").mkdir()
    text = ('version: "1"\npipeline:\n'
            "  - id: deploy\n    context:\n      shell: \"echo d >> ran/deploy\"\n"
            "    on_error: retry\n    max_retries: 1\n"
            "    reconcile:\n      shell: \"echo not sure >&2; exit 3\"\n")
    done = run(tmp_path, text)
    log = done.log_path
    assert log is not None
    crash(log, '"type":"step_started"', including=True)
    events: list[ev.Event] = []
    assert resume(tmp_path, log, events).status == "completed"
    failed = [e for e in events if isinstance(e, ev.StepFailed)]
    assert failed[0].error_type == "ail:runner/reconcile-failed"
    assert "exited with 3: not sure" in failed[0].error
    assert ran(tmp_path) == {"deploy": 2}  # the first run, then the retry


def test_a_run_whose_log_is_still_held_is_not_resumed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ran").mkdir()
    done = run(tmp_path, 'version: "1"\npipeline:\n' + counted("first"))
    assert done.log_path is not None
    crash(done.log_path)  # no run_finished
    monkeypatch.setattr(continuing, "SETTLE_SECONDS", 0.2)
    fd = os.open(done.log_path, os.O_RDONLY)
    try:
        liveness.hold(fd)  # as its writer would, were it alive
        record = read_run(done.log_path)
        assert record.status == "running"
        with pytest.raises(CannotContinue, match="still running"):
            continue_run(record, stub_options(tmp_path, None, {}), resume=True)
    finally:
        os.close(fd)
    # The writer is gone: the same record is read again and the run goes on.
    going_on = continue_run(record, stub_options(tmp_path, None, {}), resume=True)
    assert going_on.reusable == 1


def test_a_reused_loop_restores_its_last_iteration(tmp_path: Path) -> None:
    (tmp_path / "ran").mkdir()
    text = ('version: "1"\npipeline:\n'
            "  - id: loop\n    for_each:\n      over: '[1, 2]'\n      steps:\n"
            "        - id: inner\n          context:\n            shell: \"echo x >> ran/inner;"
            " echo item\"\n"
            "  - id: after\n    prompt: \"saw {{ step.loop::inner.result }}\"\n")
    done = run(tmp_path, text)
    assert done.status == "completed" and done.log_path is not None
    crash(done.log_path, '"step_id":"after"')
    assert resume(tmp_path, done.log_path).status == "completed"
    assert ran(tmp_path) == {"inner": 2}  # both iterations ran once, in the first run
    after = [r for r in read_records(done.log_path) if r.get("step_id") == "after"
             and "type" not in r]
    assert after[-1]["prompt"].strip() == "saw item"


def test_a_sub_pipeline_in_flight_goes_on_in_its_own_run(tmp_path: Path) -> None:
    (tmp_path / "ran").mkdir()
    (tmp_path / "child.ail.yaml").write_text(
        'version: "1"\npipeline:\n' + counted("c1") + counted("c2"), encoding="utf-8")
    text = 'version: "1"\npipeline:\n' + counted("first") + (
        "  - id: sub\n    pipeline: ./child.ail.yaml\n") + counted("last")
    done = run(tmp_path, text)
    assert done.status == "completed" and done.log_path is not None
    records = read_records(done.log_path)
    child_id = next(r["child_run_id"] for r in records if r.get("step_id") == "sub"
                    and r.get("type") == "step_started")
    child_log = done.log_path.parent / f"{child_id}.jsonl"
    # The machine went down while the child ran c2: c1's result is on disk, c2's is not.
    crash(done.log_path, '"step_id":"sub"', including=True)
    crash(child_log, '"step_id":"c2"')
    count_afresh(tmp_path)
    assert resume(tmp_path, done.log_path).status == "completed"
    assert ran(tmp_path) == {"c2": 1, "last": 1}
    assert read_run(child_log).status == "completed"
    assert [r.get("type") for r in read_records(child_log)].count("run_resumed") == 1


@pytest.mark.parametrize("edited", [False, True])
def test_without_step_definitions_the_pipeline_file_decides(tmp_path: Path,
                                                            edited: bool) -> None:
    (tmp_path / "ran").mkdir()
    text = 'version: "1"\npipeline:\n' + counted("first") + counted("middle") + counted("last")
    done = run(tmp_path, text)
    assert done.log_path is not None
    lines = done.log_path.read_text().splitlines(keepends=True)
    # Crashed before the step definitions reached the disk, and before its end.
    kept = [line for line in lines[:-1] if '"type":"step_definitions"' not in line]
    assert len(kept) == len(lines) - 2
    done.log_path.write_text("".join(kept))
    count_afresh(tmp_path)
    if edited:  # any edit: nothing says which steps it touched, so every step runs again
        (tmp_path / "p.ail.yaml").write_text(text.replace("echo last-out", "echo LAST"))
    assert resume(tmp_path, done.log_path).status == "completed"
    assert ran(tmp_path) == ({"first": 1, "middle": 1, "last": 1} if edited else {})


def test_a_changed_prompt_file_runs_its_step_again(tmp_path: Path) -> None:
    (tmp_path / "ran").mkdir()
    (tmp_path / "ask.md").write_text("Ask nicely.\n", encoding="utf-8")
    text = ('version: "1"\npipeline:\n' + counted("first") +
            "  - id: asker\n    prompt: ./ask.md\n" + counted("last"))
    done = run(tmp_path, text)
    assert done.log_path is not None
    crash(done.log_path)  # just before run_finished
    count_afresh(tmp_path)
    (tmp_path / "ask.md").write_text("Ask kindly.\n", encoding="utf-8")  # the file only
    assert resume(tmp_path, done.log_path).status == "completed"
    assert ran(tmp_path) == {"last": 1}
    asked = [r["prompt"] for r in read_records(done.log_path)
             if r.get("step_id") == "asker" and "type" not in r]
    assert asked == ["Ask nicely.\n", "Ask kindly.\n"]
