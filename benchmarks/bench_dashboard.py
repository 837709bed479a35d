"""The dashboard under load, headless: an event storm, keypresses during it, a save.

1. 500 async stub branches, each streaming 50 chunks over ~2 s, then a join:
   events per second taken in, whether every streamed chunk reached the output pane,
   keypress latency (p50 / p95: key posted → its action ran) during the storm, and the
   process's peak memory.
2. A 200-step pipeline open with the file watcher on: save → verdict-on-screen latency
   (file written → status bar shows the new verdict), over several saves.

Each storm is run ``--repeat`` times per pane (the timeline, then the output pane
following a streaming step) and the keypress latencies of all of them are pooled: a
storm lasts two seconds, too few keys for a stable 95th percentile on its own.

    python benchmarks/bench_dashboard.py [--branches 500] [--chunks 50] [--saves 8]
                                         [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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


def storm_pipeline(branches: int) -> str:
    """``branches`` async prompt steps and one join."""
    steps = "".join(f"  - id: b{i}\n    async: true\n    prompt: p{i}\n" for i in range(branches))
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


async def storm(directory: Path, branches: int, chunks: int,
                pane: str) -> tuple[dict[str, float], list[float]]:
    """Run the storm with ``pane`` shown beside the steps table.

    Returns its measurements and every keypress latency (seconds).
    """
    path = directory / "storm.ail.yaml"
    path.write_text(storm_pipeline(branches), encoding="utf-8")
    script = StubScript.model_validate(
        {"default": {"response": "x" * (chunks * 4), "delay": 2.0, "chunks": chunks}})
    app = AilApp(path, runner="stub", runners=RunnerFactory(stub_script=script),
                 watch_files=False, log_dir=directory / "runs")
    with key_probe() as handled:
        async with app.run_test(size=(160, 50)) as pilot:
            while app.pipeline is None:
                await pilot.pause(0.05)
            app.tabs.active = pane
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=500)
    parser.add_argument("--chunks", type=int, default=50)
    parser.add_argument("--saves", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="storms per pane")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("AIL_HOME", str(Path(tmp) / "home"))
        for pane in ("tab-timeline", "tab-output"):
            pooled: list[float] = []
            for run in range(1, args.repeat + 1):
                result, keys = asyncio.run(storm(Path(tmp), args.branches, args.chunks, pane))
                pooled += keys
                print(f"storm {run} ({pane[4:]} pane shown): {args.branches} branches x "
                      f"{args.chunks} chunks in {result['seconds']:.1f} s; events "
                      f"{result['events']:.0f} at {result['events_per_s']:.0f}/s; every chunk "
                      f"on screen for {result['reflected']:.0f}/{args.branches} branches; "
                      f"steps done {result['steps_done']:.0f}/{args.branches + 1}; keys p50 "
                      f"{result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms "
                      f"({result['keys']:.0f} keys)")
            pooled.sort()
            print(f"  keypress latency, {pane[4:]} pane, all {len(pooled)} keys of "
                  f"{args.repeat} storms: p50 {1000 * statistics.median(pooled):.1f} ms, "
                  f"p95 {1000 * pooled[int(len(pooled) * 0.95) - 1]:.1f} ms")
        latencies = asyncio.run(saves(Path(tmp), args.saves))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS) {peak_mb:.0f} MB")
    print(f"save -> verdict on screen (200 steps): median {statistics.median(latencies) * 1000:.0f}"
          f" ms, max {max(latencies) * 1000:.0f} ms over {len(latencies)} saves")


if __name__ == "__main__":
    main()
