"""``ail-tui validate`` start-up: its wall time beside a bare ``python -c pass``.

Each command runs in a fresh process, ``--runs`` times, the commands taking turns so that
a busy moment of this shared machine hits them alike; the median wall time of each is
printed with its ratio to ``python -c pass`` measured in the same run. With ``--against
REV`` the same command also runs from that commit's code (``git archive`` into a temporary
folder put first on ``PYTHONPATH``), and the ratio of the two is printed: how start-up
changed, measured side by side. Compiled modules are cached, as on a user's machine
(``PYTHONDONTWRITEBYTECODE`` is dropped; the first run of each command writes them). The
modules a validation imports are listed when
``--imports`` is given (from ``python -X importtime``), heaviest first.

    python benchmarks/bench_startup.py [--runs 15] [--against HEAD~1] [--imports]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "sample_pipelines" / "ci_checks.ail.yaml"
VALIDATE = [sys.executable, "-m", "ail_tui", "validate", str(PIPELINE)]
NEUTRAL = Path(tempfile.gettempdir())
"""Where the commands run: ``-m`` puts the working folder first on ``sys.path``, so the
repository root would shadow the code under test."""


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    # No timeout: with one, the wait polls in steps of up to 50 ms, which the times show.
    subprocess.run(argv, env=env, cwd=NEUTRAL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def _code_of(rev: str, folder: Path) -> Path:
    """The ``ail_tui`` package as it was at ``rev``, unpacked under ``folder``."""
    archive = folder / "code.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", rev, "ail_tui"], cwd=ROOT, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


def _env(code: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    # As users run it: compiled modules are cached (the first, warming run writes them).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(code), os.environ.get("PYTHONPATH")) if p)
    return env


def _imports(env: dict[str, str], shown: int = 12) -> list[tuple[int, str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", *VALIDATE[1:]], env=env,
                          cwd=NEUTRAL, capture_output=True, text=True, check=False, timeout=60)
    rows: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:shown]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--against", metavar="REV", help="also time this commit's code")
    parser.add_argument("--imports", action="store_true", help="list the heaviest imports")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        commands = {"python -c pass": ([sys.executable, "-c", "pass"], _env(None)),
                    "validate (this tree)": (VALIDATE, _env(None))}
        if args.against:
            old = _code_of(args.against, Path(scratch))
            commands[f"validate ({args.against})"] = (VALIDATE, _env(old))
        times: dict[str, list[float]] = {name: [] for name in commands}
        for argv, env in commands.values():
            _wall(argv, env)  # warm the file cache
        for _ in range(args.runs):
            for name, (argv, env) in commands.items():
                times[name].append(_wall(argv, env))
        medians = {name: statistics.median(values) for name, values in times.items()}
        bare = medians["python -c pass"]
        print(f"{PIPELINE.relative_to(ROOT)}, median of {args.runs} fresh processes each")
        for name, median in medians.items():
            print(f"  {name:<28} {median * 1000:7.1f} ms   {median / bare:5.2f}× python -c pass")
        if args.against:
            ratio = medians["validate (this tree)"] / medians[f"validate ({args.against})"]
            print(f"  this tree ÷ {args.against}: {ratio:.2f}")
        if args.imports:
            print("heaviest imports of a validation (cumulative µs):")
            for micros, module in _imports(_env(None)):
                print(f"  {micros:>9,}  {module}")


if __name__ == "__main__":
    main()
