"""``ail-tui validate`` on the worst inputs of issue 9 beside a normal 1,000-step pipeline.

Each input is validated in a fresh ``python -m ail_tui validate`` process (so the peak
RSS is that input's own), the best wall time of ``--repeat`` runs and the peak RSS are
printed, with their ratios to the 1,000-step pipeline measured in the same run (the
machine is shared: compare ratios). Times include the interpreter's start-up.

    python benchmarks/bench_limits.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench_validate import generate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from hostile_inputs import alias_bomb, nested_do_while

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD = 60.0
_MEASURED = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=float(sys.argv[1]))
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
json.dump({"code": done.returncode, "seconds": took, "peak": peak}, sys.stdout)
"""


def _bomb(directory: Path) -> Path:
    return _write(directory, "bomb", alias_bomb())


def _do_while(directory: Path, depth: int = 22) -> Path:
    return _write(directory, "do_while", nested_do_while(depth))


def _one_step(extra: str) -> str:
    return f'version: "0.1"\npipeline:\n  - id: a\n    prompt: {extra}\n'


def _long_int(directory: Path) -> Path:
    return _write(directory, "long_int", _one_step("hi") + "    meta: " + "9" * 5000 + "\n")


def _deep(directory: Path) -> Path:
    return _write(directory, "deep", _one_step("hi") + "    output_schema: "
                  + "[" * 990 + "]" * 990 + "\n")


def _big_file(directory: Path) -> Path:
    path = directory / "big_file.ail.yaml"
    with path.open("wb") as f:
        f.truncate(1 << 30)  # sparse: no disk used
    return path


def _big_prompt(directory: Path) -> Path:
    with (directory / "big.md").open("wb") as f:
        f.truncate(1 << 30)
    return _write(directory, "big_prompt", _one_step("./big.md"))


def _fifo(directory: Path) -> Path:
    path = directory / "fifo.ail.yaml"
    os.mkfifo(path)
    return path


def _fifo_prompt(directory: Path) -> Path:
    os.mkfifo(directory / "fifo.md")
    return _write(directory, "fifo_prompt", _one_step("./fifo.md"))


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.ail.yaml"
    path.write_text(text, encoding="utf-8")
    return path


INPUTS: dict[str, Callable[[Path], Path]] = {
    "1,000 steps": lambda d: _write(d, "steps", generate(1000)),
    "alias bomb (9^9)": _bomb,
    "do_while depth 22": _do_while,
    "int of 5,000 digits": _long_int,
    "nesting depth 990": _deep,
    "pipeline of 1 GiB": _big_file,
    "prompt file of 1 GiB": _big_prompt,
    "pipeline is a FIFO": _fifo,
    "prompt is a FIFO": _fifo_prompt,
    "pipeline is /dev/zero": lambda d: Path("/dev/zero"),
}


def measure(path: Path, repeat: int) -> tuple[int, float, float]:
    """(exit code, best seconds, peak RSS in MiB) of ``repeat`` fresh validate processes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", _MEASURED, str(HANG_GUARD), sys.executable, "-m", "ail_tui",
             "validate", str(path)],
            capture_output=True, text=True, cwd=path.parent, env=env, check=True,
            timeout=HANG_GUARD + 10,
        )
        runs.append(json.loads(done.stdout))
    return runs[0]["code"], min(r["seconds"] for r in runs), max(r["peak"] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [(name, *measure(make(Path(tmp)), args.repeat)) for name, make in INPUTS.items()]
    _, _, base_s, base_mib = rows[0]
    print(f"{'input':<22} {'exit':>4} {'best ms':>8} {'peak MiB':>9} {'time ratio':>11} "
          f"{'memory ratio':>13}")
    for name, code, seconds, mib in rows:
        print(f"{name:<22} {code:>4} {seconds * 1e3:>8.0f} {mib:>9.1f} "
              f"{seconds / base_s:>11.2f} {mib / base_mib:>13.2f}")


if __name__ == "__main__":
    main()
