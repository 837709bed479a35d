"""Load + validate generated pipelines of 100, 1,000 and 5,000 steps.

Prints the first (cold) run and the best of N runs (as when the dashboard re-validates
on every save, with the parse caches warm), µs per step, and the per-step ratio to the
100-step run measured in the same process (the machine is shared: compare ratios).

    python benchmarks/bench_validate.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ail_tui.pipeline.validation import check_file

SIZES = (100, 1_000, 5_000)


def _section(n: int) -> str:
    """About ten steps: sequential kinds, then a parallel fan-out with a join."""
    p = f"s{n}"
    return f"""
  - id: {p}_diff
    context:
      shell: "git diff --stat"
  - id: {p}_review
    prompt: "Review:\\n{{{{ step.{p}_diff.result }}}}"
    condition: "{{{{ step.{p}_diff.exit_code }}}} == 0"
    on_result:
      - contains: "LGTM"
        action: continue
      - matches: "/blocker|critical/i"
        action: abort_pipeline
      - always: true
        action: continue
  - id: {p}_lint
    async: true
    context:
      shell: "ruff check ."
  - id: {p}_test
    async: true
    prompt: "Run the tests of {{{{ step.invocation.prompt }}}}"
    output_schema:
      type: object
      properties: {{passed: {{type: integer}}, clean: {{type: boolean}}}}
  - id: {p}_types
    async: true
    depends_on: [{p}_lint]
    prompt: "Type-check after lint"
  - id: {p}_checks
    action: join
    depends_on: [{p}_lint, {p}_test, {p}_types]
    on_error: wait_for_all
  - id: {p}_fix
    prompt: "Fix what {{{{ step.{p}_checks.response }}}} reports"
    on_error: retry
    max_retries: 2
    before:
      - "Gather context first."
    then:
      - id: ignored
        prompt: "Summarise {{{{ last_response }}}}"
  - id: {p}_loop
    do_while:
      max_iterations: 3
      exit_when: "{{{{ step.{p}_check.exit_code }}}} == 0"
      steps:
        - id: {p}_check
          context:
            shell: "true"
  - id: {p}_gate
    action: pause_for_human
    message: "Ship it?"
"""


def generate(steps: int) -> str:
    """A valid pipeline of about ``steps`` steps (10 per section, loop bodies not counted)."""
    header = 'version: "0.1"\ndefaults:\n  model: sonnet\n  max_concurrency: 4\npipeline:'
    return header + "".join(_section(i) for i in range(steps // 10))


def measure(path: Path, repeat: int) -> tuple[float, float]:
    """(first, best) wall time of ``repeat`` load+validate runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = check_file(path)
        times.append(time.perf_counter() - start)
        if not result.valid:
            raise SystemExit(f"generated pipeline is invalid: {result.errors[:3]}")
    return times[0], min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for size in SIZES:
            path = Path(tmp) / f"p{size}.ail.yaml"
            path.write_text(generate(size), encoding="utf-8")
            rows.append((size, *measure(path, args.repeat)))
    base_per_step = rows[0][2] / rows[0][0]
    print(f"{'steps':>6} {'first ms':>9} {'best ms':>9} {'µs/step':>9} "
          f"{'per-step ratio vs 100':>22}")
    for size, first, best in rows:
        per_step = best / size
        print(f"{size:>6} {first * 1e3:>9.1f} {best * 1e3:>9.1f} {per_step * 1e6:>9.1f} "
              f"{per_step / base_per_step:>22.2f}")


if __name__ == "__main__":
    main()
