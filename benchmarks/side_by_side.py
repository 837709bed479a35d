"""Run one benchmark on this tree and on another commit, taking turns, in one run.

The other commit's ``ail_tui`` and ``benchmarks`` are unpacked (``git archive``) into a
temporary folder and run from there, first on ``PYTHONPATH``; the two trees take turns
for ``--rounds`` rounds, so a busy moment of this shared machine hits both alike. Each
benchmark prints its own figures (ratios measured within its run); read them side by
side.

    python benchmarks/side_by_side.py --against REV [--rounds 2] bench_scheduler.py [ARGS...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _unpack(rev: str, folder: Path) -> None:
    archive = folder / "code.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", rev, "ail_tui", "benchmarks", "tests/support"],
                       cwd=ROOT, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")


def _run(tree: Path, bench: str, args: list[str]) -> str:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree), env.get("PYTHONPATH")) if p)
    done = subprocess.run([sys.executable, str(tree / "benchmarks" / bench), *args],
                          cwd=tree, env=env, capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).rstrip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, metavar="REV")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("bench", help="a benchmark file in benchmarks/")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as scratch:
        other = Path(scratch)
        _unpack(options.against, other)
        trees = {"this tree": ROOT, options.against: other}
        for round_number in range(1, options.rounds + 1):
            for name, tree in trees.items():
                print(f"--- round {round_number}: {name}")
                print(_run(tree, options.bench, options.args))


if __name__ == "__main__":
    main()
