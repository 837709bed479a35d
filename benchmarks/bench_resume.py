"""Restoring a run on resume vs loading + validating its pipeline (durable runs, D1).

Builds the completed turn log of a pipeline of ``--steps`` sequential steps and
``--branches`` async branches with a join (one stub run, zero delay, log not synced),
cuts off its ``run_finished`` (a crash at the very end: every step is done, so a resume
reuses them all and runs nothing), then measures in this one process, side by side for
``--rounds`` rounds, the median of:

  * validate: ``check_file`` of the pipeline (load + validate);
  * restore:  ``read_run(times=False)`` + ``continue_run(..., resume=True)`` with the
    pipeline already loaded + the resumed run's execution until it finishes (sync off):
    the pure cost of restoring the run state; its parts are printed too;
  * resume:   the same, letting ``continue_run`` read the pipeline again from its file, as
    ``ail-tui resume`` does (so it includes one validate);
  * and, apart, the parts of ``continue_run``: ``step_fingerprints``, ``plan_reuse`` and
    ``PriorRun.reusable_count``.

The target: restoring costs at most as much as validating (ratio restore/validate <= 1).
``--profile`` prints where the restore's time goes (cProfile, cumulative).

    python benchmarks/bench_resume.py [--steps 1000] [--branches 200] [--rounds 7] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ail_tui.engine.continuing import continue_run
from ail_tui.engine.executor import Executor
from ail_tui.engine.prior_run import plan_reuse
from ail_tui.engine.run_types import RunOptions
from ail_tui.pipeline.fingerprint import step_fingerprints
from ail_tui.pipeline.loader import Pipeline
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.registry import RunnerFactory
from ail_tui.runners.stub import StubScript
from ail_tui.turnlog.reader import read_run


def pipeline_text(steps: int, branches: int) -> str:
    """``steps`` sequential prompt steps, then ``branches`` async ones and their join."""
    lines = ['version: "1"', "defaults:", "  max_concurrency: 16", "pipeline:"]
    lines += [f"  - id: s{i}\n    prompt: step {i}" for i in range(steps)]
    lines += [f"  - id: b{i}\n    async: true\n    prompt: branch {i}" for i in range(branches)]
    deps = ", ".join(f"b{i}" for i in range(branches))
    lines += [f"  - id: all\n    action: join\n    depends_on: [{deps}]"]
    return "\n".join(lines) + "\n"


def options(directory: Path) -> RunOptions:
    """The stub runner with no delay, an unsynced log under ``directory/runs``."""
    script = StubScript.model_validate({"default": {"delay": 0}})
    return RunOptions(runner="stub", runners=RunnerFactory(stub_script=script),
                      sync_log=False, log_dir=directory / "runs", cwd=str(directory))


def load(path: Path) -> Pipeline:
    loaded = check_file(path)
    assert loaded.pipeline is not None and loaded.valid, loaded.errors[:3]
    return loaded.pipeline


def crashed_log(directory: Path, path: Path) -> tuple[Path, bytes]:
    """Run the pipeline once; its log and the log's bytes without ``run_finished``."""
    result = Executor(load(path), options(directory)).run()
    assert result.status == "completed" and result.log_path is not None, result
    lines = result.log_path.read_bytes().splitlines(keepends=True)
    assert b'"run_finished"' in lines[-1]
    return result.log_path, b"".join(lines[:-1])


@dataclass
class Restore:
    """One restore, in parts (seconds)."""

    read: float = 0.0
    plan: float = 0.0
    run: float = 0.0

    @property
    def total(self) -> float:
        return self.read + self.plan + self.run


def restore(directory: Path, log: Path, cut: bytes, pipeline: Pipeline | None) -> Restore:
    """Resume the crashed run (``pipeline``: given, or read again by ``continue_run``)."""
    log.write_bytes(cut)  # the previous round appended its resume
    parts = Restore()
    start = time.perf_counter()
    record = read_run(log, times=False)
    parts.read = time.perf_counter() - start
    start = time.perf_counter()
    going_on = continue_run(record, options(directory), resume=True, pipeline=pipeline)
    parts.plan = time.perf_counter() - start
    start = time.perf_counter()
    result = Executor(going_on.pipeline, going_on.options).run()
    parts.run = time.perf_counter() - start
    assert result.status == "completed", result
    assert going_on.reusable == expected_reuse(pipeline or going_on.pipeline), going_on.reusable
    return parts


def expected_reuse(pipeline: Pipeline) -> int:
    return len(pipeline.steps)  # every step (no prompt: no invocation entry)


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def plan_parts(directory: Path, log: Path, cut: bytes, pipeline: Pipeline) -> dict[str, float]:
    """Seconds of each part of ``continue_run`` (the pipeline given)."""
    log.write_bytes(cut)
    record = read_run(log, times=False)
    parts: dict[str, float] = {}
    start = time.perf_counter()
    current = step_fingerprints(pipeline, cwd=str(directory))
    parts["step_fingerprints"] = time.perf_counter() - start
    start = time.perf_counter()
    prior = plan_reuse(record, pipeline, current, resume=True, prompt=None)
    parts["plan_reuse"] = time.perf_counter() - start
    parts["reusable_count"] = timed(prior.reusable_count)
    return parts


def profile(directory: Path, log: Path, cut: bytes, pipeline: Pipeline) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    restore(directory, log, cut, pipeline)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--branches", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        directory = Path(tmp)
        path = directory / "p.ail.yaml"
        path.write_text(pipeline_text(args.steps, args.branches), encoding="utf-8")
        pipeline = load(path)
        log, cut = crashed_log(directory, path)
        records = cut.count(b"\n")
        validate: list[float] = []
        restores: list[Restore] = []
        resumes: list[float] = []
        plans: list[dict[str, float]] = []
        for _ in range(args.rounds):  # side by side, so a busy moment hits all alike
            validate.append(timed(lambda: load(path)))
            restores.append(restore(directory, log, cut, pipeline))
            resumes.append(restore(directory, log, cut, None).total)
            plans.append(plan_parts(directory, log, cut, pipeline))
        if args.profile:
            profile(directory, log, cut, pipeline)
    v = statistics.median(validate)
    r = statistics.median(p.total for p in restores)
    print(f"pipeline: {args.steps} sequential steps + {args.branches} branches + join; "
          f"log of {records} records ({len(cut) / 1024:.0f} KiB), run_finished cut off")
    print(f"median of {args.rounds} rounds:")
    print(f"  validate (check_file):             {v * 1e3:8.1f} ms")
    print(f"  restore (read + plan + run):       {r * 1e3:8.1f} ms")
    for name in ("read", "plan", "run"):
        part = statistics.median(getattr(p, name) for p in restores)
        label = {"read": "read_run", "plan": "continue_run (pipeline given)",
                 "run": "resumed run, all reused"}[name]
        print(f"    {label + ':':<33}{part * 1e3:8.1f} ms")
        if name == "plan":
            for step in plans[0]:
                value = statistics.median(p[step] for p in plans)
                print(f"      {step + ':':<31}{value * 1e3:8.1f} ms")
    print(f"  resume (restore + re-read file):   {statistics.median(resumes) * 1e3:8.1f} ms")
    state = statistics.median(p.read + p.plan for p in restores)
    print(f"ratio restore/validate: {r / v:.2f} (target <= 1.00); without the resumed run's "
          f"pass over its reused steps (read + plan): {state / v:.2f}")


if __name__ == "__main__":
    main()
