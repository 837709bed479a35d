"""``kill -9`` a real headless run, then ``ail-tui resume`` it (D1–D5), end to end.

Every test starts ``python -m ail_tui`` in a project directory of its own, with
``AIL_HOME`` and ``HOME`` in a temporary directory, kills it with SIGKILL at a chosen
moment, checks that no process of the run is alive 2 s later (the watchdog ends them,
D5), resumes it and reads the final turn log.

Shell steps count their executions by appending a line to ``ran/STEP``; a step made to
be killed in appends, touches ``started/STEP`` and sleeps on its first execution only,
so the test waits for that marker (never a fixed time) and the resumed run does not
sleep. The pipelines are in ``tests/fixtures/kill_resume/``.

The acceptance test kills the ``review_fanout`` sample at 20 random moments; its seed is
``AIL_KILL_SEED`` (default fixed) and is printed in every failure.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from kill_helpers import (
    PROCESS_TESTS,
    SAMPLES,
    START_WITHIN,
    STUB,
    Project,
    completed_as_one_run,
    entries_of,
    kill_and_check_no_leak,
    records_of,
    resume,
    start_and_kill_at_marker,
    start_run,
    starts,
    wait_for,
)

from ail_tui.turnlog.reader import RunRecord, read_run

pytestmark = PROCESS_TESTS


# -- a: the acceptance test -------------------------------------------------------------

STUB_SPEEDUP = 4.0
"""The acceptance test's stub script is the sample's with every delay divided by this."""
TRIALS = 20
PARALLEL_TRIALS = 4
FANOUT_STEPS = ("diff", "security", "performance", "style", "review", "decide")
DEFAULT_SEED = 20261201


def fast_stub_script(directory: Path) -> Path:
    """``sample_pipelines/stub_script.yaml`` with shorter delays."""
    script = yaml.safe_load((SAMPLES / "stub_script.yaml").read_text(encoding="utf-8"))
    for behaviour in [script.get("default", {}), *script.get("steps", {}).values()]:
        if "delay" in behaviour:
            behaviour["delay"] = round(behaviour["delay"] / STUB_SPEEDUP, 3)
    path = directory / "fast_stub_script.yaml"
    path.write_text(yaml.safe_dump(script), encoding="utf-8")
    return path


def executions(log: Path) -> dict[str, int]:
    """How many times each step's body began: its ``step_started`` records (a join writes
    none: its entries); reused steps write nothing on resume."""
    records = records_of(log)
    started = Counter(r["step_id"] for r in records if r.get("type") == "step_started")
    entries = Counter(r["step_id"] for r in records if "step_id" in r and "type" not in r)
    return {step: started[step] or entries[step] for step in FANOUT_STEPS}


def kill_trial(root: Path, script: Path, kill_at: float, resume_kill_at: float | None
               ) -> tuple[str, str | None]:
    """One trial: run review_fanout, kill -9 ``kill_at`` s after its first event, resume
    (killing the first resume ``resume_kill_at`` s after its first event, if given) until
    it completes. Where the kill hit, and None when every check holds, else what failed."""
    project = Project(root)
    where = ["?"]
    try:
        failed = _kill_trial(project, script, kill_at, resume_kill_at, where)
    except Exception as exc:  # reported with the seed, whatever it is
        failed = f"{type(exc).__name__}: {exc}"
    finally:
        project.cleanup()
    return where[0], failed


def hit(record: RunRecord) -> str:
    """Where a kill hit the run: the steps done and those in flight (``~``)."""
    if record.status == "completed":
        return "after the end"
    done = [s.step_id for s in record.steps if s.status == "done"]
    flying = [f"~{s.step_id}" for s in record.steps if s.status == "interrupted"]
    return " ".join(done + flying) or "before the first step"


def _kill_trial(project: Project, script: Path, kill_at: float,
                resume_kill_at: float | None, where: list[str]) -> str | None:
    stub = ("--stub-script", str(script))
    run, run_id, log = start_run(project, str(SAMPLES / "review_fanout.ail.yaml"), *stub)
    time.sleep(kill_at)  # the moment of the crash is what this test varies
    kill_and_check_no_leak(run, run_id, log)
    where[0] = hit(read_run(log))
    kills, resumes = 1, 0
    while True:
        before = read_run(log)
        going_on = project.start("resume", run_id[:8], "--headless", *stub)
        if before.status == "completed":  # the kill came after the run's end
            assert going_on.finish() == 0 and "nothing to resume" in going_on.stderr, (
                going_on.stderr)
            break
        assert before.status == "interrupted", before.status
        going_on.first_event()
        resumes += 1
        if resume_kill_at is not None and kills == 1:
            time.sleep(resume_kill_at)
            kill_and_check_no_leak(going_on, run_id, log)
            where[0] += f"; resume killed: {hit(read_run(log))}"
            kills += 1
            continue
        assert going_on.finish() == 0, going_on.stderr
        break
    record = completed_as_one_run(log, run_id, resumes)
    ran = executions(log)
    for step_id in FANOUT_STEPS:
        step = record.step(step_id)
        assert step is not None, f"{step_id} never ran"
        statuses = [a.status for a in step.attempts]
        assert statuses.count("done") == 1 and statuses[-1] == "done", (step_id, statuses)
        interrupted = statuses.count("interrupted")
        assert len(statuses) == 1 + interrupted, (step_id, statuses)
        segments = Counter(a.segment for a in step.attempts if a.status == "interrupted")
        assert all(n == 1 for n in segments.values()), (step_id, statuses)
        assert interrupted <= kills, (step_id, statuses)
        assert ran[step_id] == 1 + interrupted, (step_id, ran, statuses)  # in flight: again
    return None


@pytest.mark.timeout(150)
def test_kill_9_at_20_random_moments_then_resume_runs_every_step_once(
        tmp_path: Path) -> None:
    seed = int(os.environ.get("AIL_KILL_SEED", DEFAULT_SEED))
    chance = random.Random(seed)
    script = fast_stub_script(tmp_path)
    # The run's duration, measured once: from its first event to its last.
    timing = Project(tmp_path / "timing")
    try:
        run = timing.start("run", "--headless", str(SAMPLES / "review_fanout.ail.yaml"),
                           "--stub-script", str(script))
        assert run.finish() == 0, run.stderr
        duration = run.arrivals[-1] - run.arrivals[0]
    finally:
        timing.cleanup()
    # Kill moments spread over the run: one in each twentieth of it (and a little after).
    moments = [(i + chance.random()) / TRIALS * duration * 1.05 for i in range(TRIALS)]
    resume_kills = [chance.uniform(0, duration * 0.6) if chance.random() < 0.3 else None
                    for _ in range(TRIALS)]
    with ThreadPoolExecutor(PARALLEL_TRIALS) as pool:
        outcomes = list(pool.map(kill_trial, [tmp_path / f"trial-{i:02d}" for i in range(TRIALS)],
                                 [script] * TRIALS, moments, resume_kills))
    trials = [f"trial {i}: kill at {moments[i]:.3f} s"
              + (f", resume killed at {resume_kills[i]:.3f} s" if resume_kills[i] else "")
              + f" ({where})" for i, (where, _) in enumerate(outcomes)]
    print(f"AIL_KILL_SEED={seed}, run duration {duration:.2f} s", *trials, sep="\n")
    failures = {trials[i]: failed for i, (_, failed) in enumerate(outcomes) if failed}
    assert failures == {}, (f"AIL_KILL_SEED={seed} (run duration {duration:.2f} s): "
                            + json.dumps(failures, indent=1))
    # The kills hit the run in several places, steps in flight among them.
    places = Counter(where.split(";")[0] for where, _ in outcomes)
    assert len(places) >= 3 and any("~" in where for where in places), (seed, places)


# -- b: kills at chosen points ----------------------------------------------------------


def test_kill_while_a_sequential_shell_step_runs(project: Project) -> None:
    pipeline = project.pipeline("sequential.ail.yaml")
    run_id, log = start_and_kill_at_marker(project, pipeline, "slow")
    assert project.ran() == {"first": 1, "slow": 1}
    resume(project, run_id)
    assert project.ran() == {"first": 1, "slow": 2, "last": 1}  # slow was in flight
    completed_as_one_run(log, run_id)
    assert starts(log, "slow") == [None, None] and starts(log, "report") == [None]
    assert entries_of(log, "report")[-1]["prompt"] == "slow said slow-out\n"


def test_kill_while_branches_run(project: Project) -> None:
    pipeline = project.pipeline("branches.ail.yaml")
    run, run_id, log = start_run(project, str(pipeline), *STUB)
    project.marker("slow_a")
    project.marker("slow_b")
    wait_for(lambda: entries_of(log, "quick"), START_WITHIN, "quick's entry")
    kill_and_check_no_leak(run, run_id, log)
    resume(project, run_id)
    assert project.ran() == {"first": 1, "quick": 1, "slow_a": 2, "slow_b": 2, "last": 1}
    record = completed_as_one_run(log, run_id)
    joined = record.step("joined")
    assert joined is not None and [a.status for a in joined.attempts] == ["done"]
    assert len(entries_of(log, "joined")) == 1
    assert starts(log, "quick") == [None]
    assert starts(log, "slow_a") == starts(log, "slow_b") == [None, None]


def test_kill_while_a_join_waits(project: Project) -> None:
    pipeline = project.pipeline("join_waits.ail.yaml")
    run_id, log = start_and_kill_at_marker(
        project, pipeline, "slow",
        ready=lambda log: bool(entries_of(log, "quick") and entries_of(log, "mid")))
    assert not entries_of(log, "joined")
    resume(project, run_id)
    assert project.ran() == {"quick": 1, "mid": 1, "slow": 2, "last": 1}
    completed_as_one_run(log, run_id)
    assert len(entries_of(log, "joined")) == 1


def test_kill_in_the_second_loop_iteration(project: Project) -> None:
    pipeline = project.pipeline("loop.ail.yaml")
    run_id, log = start_and_kill_at_marker(project, pipeline, "work_2")
    assert project.ran() == {"first": 1, "prep": 2, "work": 2}
    assert starts(log, "loop::work") == [[1], [2]]
    resume(project, run_id)
    # Neither step of the 1st iteration runs again, nor the 2nd's prep; work was in flight
    # in the 2nd iteration and runs again there.
    assert project.ran() == {"first": 1, "last": 1, "prep": 3, "work": 4}
    assert starts(log, "loop::prep") == [[1], [2], [3]]
    assert starts(log, "loop::work") == [[1], [2], [2], [3]]
    completed_as_one_run(log, run_id)
    inner = sorted((r["step_id"], r.get("iteration")) for r in records_of(log)
                   if "type" not in r and r["step_id"].startswith("loop::"))
    assert inner == [("loop::prep", [1]), ("loop::prep", [2]), ("loop::prep", [3]),
                     ("loop::work", [1]), ("loop::work", [2]), ("loop::work", [3])]


def test_kill_in_the_step_after_a_headless_gate(project: Project) -> None:
    # A headless run cannot block at pause_for_human: it warns and goes on. So the kill
    # comes in the long-running step right after the gate.
    pipeline = project.pipeline("gate.ail.yaml")
    run, run_id, log = start_run(project, str(pipeline), *STUB)
    project.marker("slow")
    wait_for(lambda: any(e["type"] == "warning" and e.get("step_id") == "gate"
                         for e in run.events), START_WITHIN, "the gate's headless warning")
    kill_and_check_no_leak(run, run_id, log)
    resumed = resume(project, run_id)
    assert project.ran() == {"first": 1, "slow": 2, "last": 1}
    completed_as_one_run(log, run_id)
    completed = [e["step_id"] for e in resumed.events if e["type"] == "step_completed"]
    assert completed == ["first", "gate", "slow", "last"]
