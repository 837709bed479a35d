"""The dashboard under load, headless: an event storm, keypresses during it, a save.

1. 500 async stub branches, each streaming 50 chunks over ~2 s, then a join:
   events per second taken in, whether every streamed chunk reached the output pane,
   keypress latency (p50 / p95: key posted → its action ran) during the storm, and the
   process's peak memory. Each storm runs plain (a flat table, no filter) and with the
   steps tree and filters on (every tenth branch has a ``then:`` step, shown under it;
   the name filter ``1`` and the ``failed first`` view), side by side.
2. 5,000 branches × 20 chunks, plain and with the tree and filters on, each in a
   process of its own: keypress p50 / p95 and that process's peak memory (its max RSS,
   from getrusage).
3. A 200-step pipeline open with the file watcher on: save → verdict-on-screen latency
   (file written → status bar shows the new verdict), over several saves.

Each storm is run ``--repeat`` times per pane (the timeline, then the output pane
following a streaming step) and the keypress latencies of all of them are pooled: a
storm lasts two seconds, too few keys for a stable 95th percentile on its own.

    python benchmarks/bench_dashboard.py [--branches 500] [--chunks 50] [--saves 8]
                                         [--repeat 3] [--big-branches 5000]
                                         [--big-chunks 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ail_tui.runners.registry import RunnerFactory
from ail_tui.runners.stub import StubScript
from ail_tui.tui.app import AilApp
from ail_tui.tui.widgets.steps_table import StepsTable

KEY_INTERVAL = 0.02  # a key held down repeats about this often
NAME_FILTER = "1"
STATUS_VIEW = "failed first"
BUDGET_MS = 50.0
BUDGET_MB = 300.0


def storm_pipeline(branches: int, tree: bool = False) -> str:
    """``branches`` async prompt steps and one join (``tree``: every tenth branch has a
    ``then:`` step, a row under the branch)."""
    steps = "".join(f"  - id: b{i}\n    async: true\n    prompt: p{i}\n"
                    + ("    then: [t]\n" if tree and i % 10 == 0 else "")
                    for i in range(branches))
    deps = ", ".join(f"b{i}" for i in range(branches))
    return f'version: "1"\npipeline:\n{steps}  - id: all\n    action: join\n' \
           f"    depends_on: [{deps}]\n    on_error: wait_for_all\n"


@contextlib.contextmanager
def key_probe() -> Iterator[list[float]]:
    """While on, every run of ``StepsTable.action_cursor_down`` (the ``j`` key's action)
    adds its time (``time.perf_counter``) to the list it gives."""
    handled: list[float] = []
    original = StepsTable.action_cursor_down

    def probe(self: StepsTable) -> None:
        handled.append(time.perf_counter())
        original(self)

    StepsTable.action_cursor_down = probe  # type: ignore[method-assign]
    try:
        yield handled
    finally:
        StepsTable.action_cursor_down = original  # type: ignore[method-assign]


async def press_keys_while_running(app: AilApp, handled: list[float]) -> list[float]:
    """Press ``j`` every KEY_INTERVAL plus the previous key's latency while the app's run
    goes on; each key's latency (seconds from the key posted to its action running, as
    :func:`key_probe`'s ``handled`` tells)."""
    latencies: list[float] = []
    while app.view.running:
        before = len(handled)
        sent = time.perf_counter()
        app.simulate_key("j")
        while len(handled) == before and time.perf_counter() - sent < 5:
            await asyncio.sleep(0.001)
        if len(handled) > before:
            latencies.append(handled[-1] - sent)
        await asyncio.sleep(KEY_INTERVAL)
    return latencies


async def storm(directory: Path, branches: int, chunks: int, pane: str,
                tree: bool = False) -> tuple[dict[str, float], list[float]]:
    """Run the storm with ``pane`` shown beside the steps table (``tree``: with inner
    rows, the name filter and a status view on).

    Returns its measurements and every keypress latency (seconds).
    """
    path = directory / "storm.ail.yaml"
    path.write_text(storm_pipeline(branches, tree), encoding="utf-8")
    script = StubScript.model_validate(
        {"default": {"response": "x" * (chunks * 4), "delay": 2.0, "chunks": chunks}})
    app = AilApp(path, runner="stub", runners=RunnerFactory(stub_script=script),
                 watch_files=False, log_dir=directory / "runs")
    with key_probe() as handled:
        async with app.run_test(size=(160, 50)) as pilot:
            while app.pipeline is None:
                await pilot.pause(0.05)
            app.tabs.active = pane
            if tree:
                app.table.set_name_filter(NAME_FILTER)
                app.table.step_tree.status_view = STATUS_VIEW
            await pilot.press("r")
            started = time.perf_counter()
            while not app.view.running:
                await asyncio.sleep(0.005)
            latencies = await press_keys_while_running(app, handled)
            took = time.perf_counter() - started
            await pilot.pause(0.3)
            emitted = app.events.received
            expected = "x" * (chunks * 4)
            reflected = sum(1 for i in range(branches)
                            if "".join(app.view.rows[f"b{i}"].output) == expected
                            and app.view.rows[f"b{i}"].status == "done")
            done = sum(1 for r in app.view.rows.values() if r.status == "done")
    latencies.sort()
    return {
        "events": float(emitted),
        "reflected": float(reflected),
        "events_per_s": emitted / took,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(len(latencies) * 0.95) - 1],
        "keys": float(len(latencies)),
        "steps_done": float(done),
        "seconds": took,
    }, latencies


async def saves(directory: Path, count: int) -> list[float]:
    """Save → verdict latency on a 200-step pipeline with the watcher on."""
    path = directory / "big.ail.yaml"

    def text(n: int, valid: bool) -> str:
        steps = "".join(f"  - id: s{i}\n    prompt: step {i} v{n}\n" for i in range(200))
        return 'version: "1"\npipeline:\n' + steps + ("" if valid else "  - id: s0\n"
                                                      "    prompt: duplicate\n")

    path.write_text(text(0, True), encoding="utf-8")
    app = AilApp(path, runner="stub", log_dir=directory / "runs")
    out: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        while app.result is None:
            await pilot.pause(0.05)
        await pilot.pause(1.0)  # the watcher is up
        for n in range(1, count + 1):
            valid = n % 2 == 0
            wanted = "✓ valid" if valid else "✗ invalid"
            written = time.perf_counter()
            path.write_text(text(n, valid), encoding="utf-8")
            while wanted not in str(app.status.render()):
                await asyncio.sleep(0.002)
                assert time.perf_counter() - written < 10, "no verdict after a save"
            out.append(time.perf_counter() - written)
            await pilot.pause(0.3)
    return out


def big_storm(directory: str, branches: int, chunks: int,
              tree: bool) -> tuple[list[float], float]:
    """The big storm, meant for a process of its own: every keypress latency and the
    process's peak memory (max RSS, MB)."""
    os.environ["AIL_HOME"] = str(Path(directory) / "home")
    _, keys = asyncio.run(storm(Path(directory), branches, chunks, "tab-timeline", tree))
    return keys, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(keys: list[float]) -> tuple[float, float]:
    """p50 and p95 of latencies in seconds, in milliseconds."""
    keys = sorted(keys)
    return 1000 * statistics.median(keys), 1000 * keys[max(int(len(keys) * 0.95) - 1, 0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=500)
    parser.add_argument("--chunks", type=int, default=50)
    parser.add_argument("--saves", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="storms per pane")
    parser.add_argument("--big-branches", type=int, default=5000)
    parser.add_argument("--big-chunks", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("AIL_HOME", str(Path(tmp) / "home"))
        rows: list[str] = []
        for pane in ("tab-timeline", "tab-output"):
            pooled: dict[bool, list[float]] = {False: [], True: []}
            for run in range(1, args.repeat + 1):
                for tree in (False, True):
                    result, keys = asyncio.run(storm(Path(tmp), args.branches, args.chunks,
                                                     pane, tree))
                    pooled[tree] += keys
                    print(f"storm {run} ({pane[4:]} pane, "
                          f"{'tree + filters' if tree else 'plain'}): {args.branches} "
                          f"branches x {args.chunks} chunks in {result['seconds']:.1f} s; "
                          f"events {result['events']:.0f} at {result['events_per_s']:.0f}/s; "
                          f"every chunk on screen for {result['reflected']:.0f}/"
                          f"{args.branches} branches; steps done "
                          f"{result['steps_done']:.0f}; keys p50 {result['p50_ms']:.1f} ms, "
                          f"p95 {result['p95_ms']:.1f} ms ({result['keys']:.0f} keys)")
            (p50, p95), (t50, t95) = percentiles(pooled[False]), percentiles(pooled[True])
            rows.append(f"{args.branches}x{args.chunks} {pane[4:]:<8} {p50:>7.1f} {p95:>7.1f}"
                        f"   {t50:>7.1f} {t95:>7.1f}   {t95 / p95:>5.2f}x   "
                        f"{'ok' if t95 < BUDGET_MS else 'OVER'} (< {BUDGET_MS:.0f} ms)")
        big: dict[bool, tuple[list[float], float]] = {}
        for tree in (False, True):
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                big[tree] = pool.apply(big_storm, (tmp, args.big_branches, args.big_chunks,
                                                   tree))
        (p50, p95), (b50, b95) = percentiles(big[False][0]), percentiles(big[True][0])
        peak = big[True][1]
        rows.append(f"{args.big_branches}x{args.big_chunks} timeline {p50:>7.1f} {p95:>7.1f}"
                    f"   {b50:>7.1f} {b95:>7.1f}   {b95 / p95:>5.2f}x   "
                    f"{'ok' if b95 < BUDGET_MS else 'OVER'} (< {BUDGET_MS:.0f} ms)")
        latencies = asyncio.run(saves(Path(tmp), args.saves))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("\nkeypress latency, ms (pooled over the storms of each pane)")
    print("storm       pane        plain p50/p95   tree+filters p50/p95   p95 ratio")
    print("\n".join(rows))
    print(f"{args.big_branches}x{args.big_chunks} storm, peak memory (max RSS of its own "
          f"process): plain {big[False][1]:.0f} MB, tree + filters {peak:.0f} MB "
          f"({peak / big[False][1]:.2f}x), {'ok' if peak < BUDGET_MB else 'OVER'} "
          f"(< {BUDGET_MB:.0f} MB)")
    print(f"peak memory of this process (max RSS, the {args.branches}-branch storms) "
          f"{peak_mb:.0f} MB")
    print(f"save -> verdict on screen (200 steps): median {statistics.median(latencies) * 1000:.0f}"
          f" ms, max {max(latencies) * 1000:.0f} ms over {len(latencies)} saves")


if __name__ == "__main__":
    main()
