"""Engine overhead with the durable turn log on: zero-delay steps per second.

Measures, in one run and side by side:
  * the machine's raw rate of small appends each followed by ``fdatasync``;
  * a sequential pipeline of zero-delay stub prompt steps (2 records per step:
    step_started + the turn entry), as steps/s and as a share of the bound that one
    fdatasync per record would set (a step's entry shares its sync with the next step's
    start, made before that step's body begins, so the share can pass 100%);
  * 1,000 zero-delay parallel branches and their join (wall time).

The disk of a shared machine is fast one second and slow the next, so the raw rate and
the steps are measured in ``--rounds`` pairs, each rate right before its run of
``--steps`` steps, and the share is the median of the pairs' shares.

    python benchmarks/bench_overhead.py [--steps 1000] [--rounds 3] [--branches 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from timed_run import timed_run

from ail_tui.engine.run_types import RunOptions
from ail_tui.runners.registry import RunnerFactory

RECORDS_PER_STEP = 2


def fdatasync_rate(directory: Path, seconds: float = 1.5) -> float:
    """Appends+fdatasync per second of a 300-byte line."""
    path = directory / "sync-probe.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    line = b"x" * 299 + b"\n"
    count = 0
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            os.write(fd, line)
            os.fdatasync(fd)
            count += 1
    finally:
        os.close(fd)
    return count / (time.perf_counter() - start)


def run(directory: Path, text: str) -> float:
    """Wall time of one run of ``text`` with the stub runner and a synced turn log."""
    options = RunOptions(runner="stub", runners=RunnerFactory(), log_dir=directory / "runs",
                         cwd=str(directory))
    return timed_run(directory, "p.ail.yaml", text, options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--branches", type=int, default=1000)
    args = parser.parse_args()
    per_round = args.steps
    rates: list[float] = []
    speeds: list[float] = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        directory = Path(tmp)
        sequential = 'version: "1"\npipeline:\n' + "".join(
            f"  - id: s{i}\n    prompt: step {i}\n" for i in range(per_round))
        for _ in range(args.rounds):
            rates.append(fdatasync_rate(directory, seconds=0.3))
            speeds.append(per_round / run(directory, sequential))
        parallel = 'version: "1"\npipeline:\n' + "".join(
            f"  - id: b{i}\n    async: true\n    prompt: b{i}\n" for i in range(args.branches)
        ) + "  - id: all\n    action: join\n    depends_on: [" + ", ".join(
            f"b{i}" for i in range(args.branches)) + "]\n"
        par_time = run(directory, parallel)
    shares = sorted(speed / (rate / RECORDS_PER_STEP)
                    for speed, rate in zip(speeds, rates, strict=True))
    print(f"raw append+fdatasync:        {statistics.median(rates):10.0f} /s (median)")
    print(f"sequential bound (/{RECORDS_PER_STEP} records): "
          f"{statistics.median(rates) / RECORDS_PER_STEP:10.0f} steps/s")
    print(f"sequential zero-delay steps: {statistics.median(speeds):10.0f} steps/s "
          f"= {statistics.median(shares):.0%} of the bound "
          f"(median of {args.rounds} rounds of {per_round}; {shares[0]:.0%}-{shares[-1]:.0%})")
    print(f"{args.branches} parallel zero-delay branches + join: {par_time:.2f} s "
          f"({args.branches / par_time:.0f} branches/s)")


if __name__ == "__main__":
    main()
