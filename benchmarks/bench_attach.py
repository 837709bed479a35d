"""Attached to a detached run: event latency and the dashboard's keys, beside in-process.

The run is bench_dashboard's storm (``--branches`` async stub branches, each streaming
``--chunks`` chunks over ~2 s, then a join) after one quiet lead step of ``--lead``
seconds, which leaves a viewer time to attach before the storm. "Attached" means the run
is a real detached run: ``python -m ail_tui run PIPELINE --stub-script S --serve-fd N``
(what ``run --detach`` starts) in a process of its own session, reached over its control
socket by a :class:`RemoteRun` in this process. "In-process" means the same pipeline as a
:class:`LocalRun` in this process. Each round measures both, in alternating order, so a
busy moment of this shared machine hits both alike; the summary gives medians over rounds.

1. Event latency: for every event of the run, the time its sink is called in this process
   (``time.time()``) minus the event's emission time ``at`` (same machine, same clock).
   In-process: a sink subscribed to the LocalRun (called on the emitting thread).
   Attached: a sink subscribed to the RemoteRun (called on its reading thread, after the
   server's writer thread encoded and sent the event and the client decoded it). Events
   emitted before the viewer subscribed come as a replay and are left out.
2. Key latency of the dashboard during the storm, as bench_dashboard measures it: ``j``
   every KEY_INTERVAL (20 ms) plus the previous key's latency, each timed from the key
   posted to ``StepsTable.action_cursor_down`` running; keys from the lead step's end to
   the run's end. In-process: ``AilApp`` starts the run (``r``), as bench_dashboard does.
   Attached: ``AilApp(attach=RemoteRun(...))`` follows the detached run.

Each line also says how many full (generation 2) garbage collections this process made
while measuring, and the longest: a run of this process defers them while it runs, a
viewer of another process's run does not (each one is a pause of its threads).

Targets (issue 13): attached event latency p95 < 50 ms; attached key latency p95 within
1.5x of in-process in the same run.

    python benchmarks/bench_attach.py [--branches 500] [--chunks 50] [--rounds 3]
                                      [--lead 2.5] [--pane timeline|output]
                                      [--only events|keys]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench_dashboard import key_probe, press_keys_while_running, storm_pipeline

from ail_tui.engine import events as ev
from ail_tui.engine.local_run import LocalRun
from ail_tui.engine.run_types import RunOptions
from ail_tui.orchestration.launch import start_process
from ail_tui.orchestration.live_runs import socket_path
from ail_tui.orchestration.remote_run import RemoteRun
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.registry import RunnerFactory
from ail_tui.runners.stub import StubScript
from ail_tui.tui.app import AilApp

LEAD = "lead"
"""The quiet first step: the storm's branches start when it is done."""
RUN_SECONDS = 120.0
"""Longest a run may take before the benchmark gives up on it."""


# -- the run, its files and its processes --------------------------------------------------


def lead_storm_pipeline(branches: int) -> str:
    """bench_dashboard's storm with one sequential lead step before its branches."""
    head = 'version: "1"\npipeline:\n'
    storm = storm_pipeline(branches)
    assert storm.startswith(head), storm[:40]
    return head + f"  - id: {LEAD}\n    prompt: lead\n" + storm[len(head):]


def stub_script(chunks: int, lead: float) -> dict[str, object]:
    """bench_dashboard's storm branches; the lead step waits ``lead`` seconds, quietly."""
    return {"default": {"response": "x" * (chunks * 4), "delay": 2.0, "chunks": chunks},
            "steps": {LEAD: {"response": "ok", "delay": lead}}}


@dataclass
class Bench:
    """The benchmark's folders and the run processes it started (all removed at the end)."""

    work: Path
    """The pipeline, the stub script, AIL_HOME (the turn logs)."""
    runtime: Path
    """AIL_TUI_RUNTIME_DIR: the run processes' control sockets (short: socket paths are
    limited to 107 bytes)."""
    branches: int
    chunks: int
    lead: float
    pipeline_path: Path = field(init=False)
    script_path: Path = field(init=False)
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pipeline_path = self.work / "storm.ail.yaml"
        self.pipeline_path.write_text(lead_storm_pipeline(self.branches), encoding="utf-8")
        self.script_path = self.work / "stub.json"
        self.script_path.write_text(json.dumps(stub_script(self.chunks, self.lead)),
                                    encoding="utf-8")

    def runners(self) -> RunnerFactory:
        """The stub runner, scripted as the run process's ``--stub-script`` is."""
        return RunnerFactory(stub_script=StubScript.model_validate(
            stub_script(self.chunks, self.lead)))

    def local_run(self) -> LocalRun:
        """The pipeline as a run of this process, with a detached run's options."""
        loaded = check_file(self.pipeline_path)
        assert loaded.pipeline is not None and loaded.valid, loaded.errors[:3]
        return LocalRun(loaded.pipeline, RunOptions(runner="stub", runners=self.runners(),
                                                    interactive=True))

    def detached_run(self) -> tuple[subprocess.Popen[bytes], Path]:
        """Start the pipeline as ``run --detach`` does (:func:`start_process`); its process
        and control socket once its run has started."""
        started = start_process(["-m", "ail_tui", "run", str(self.pipeline_path),
                                 "--stub-script", str(self.script_path)])
        self.children.append(started.process)
        return started.process, socket_path(started.run_id)

    def end(self, child: subprocess.Popen[bytes]) -> None:
        """Wait for a run process that should be ending; stop it if it does not."""
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            _stop(child)
        with contextlib.suppress(ValueError):
            self.children.remove(child)

    def stop_all(self) -> None:
        """Stop every run process still alive (by its pid)."""
        for child in self.children:
            _stop(child)
        self.children.clear()


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, sig)
        try:
            child.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def bench_folders(branches: int, chunks: int, lead: float) -> Iterator[Bench]:
    """The benchmark's folders and environment; on the way out (Ctrl-C too) its run
    processes are stopped and its folders removed."""
    work = Path(tempfile.mkdtemp(prefix="ail-bench-attach-"))
    runtime = Path(tempfile.mkdtemp(prefix="ailrt", dir="/tmp"))  # made 0700
    saved = {name: os.environ.get(name) for name in ("AIL_HOME", "AIL_TUI_RUNTIME_DIR")}
    os.environ["AIL_HOME"] = str(work / "home")
    os.environ["AIL_TUI_RUNTIME_DIR"] = str(runtime)
    bench = None
    try:
        bench = Bench(work, runtime, branches, chunks, lead)
        yield bench
    finally:
        if bench is not None:
            bench.stop_all()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)


class FullCollections:
    """Full (generation 2) collections of this process while on: each one's pause.

    A run of this process defers them (``gc_control.full_collections_deferred``); a
    viewer of another process's run does not, so they show up on its side only."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._began = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._began)

    def __enter__(self) -> FullCollections:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> str:
        if not self.pauses:
            return "no full GC here"
        return (f"{len(self.pauses)} full GC here, longest {1000 * max(self.pauses):.0f} ms")


def percentile(seconds: list[float], fraction: float) -> float:
    """The value ``fraction`` of the way up ``seconds`` (the lowest for a small list)."""
    ordered = sorted(seconds)
    return ordered[max(int(len(ordered) * fraction) - 1, 0)]


# -- 1. event latency ----------------------------------------------------------------------


@dataclass
class Latencies:
    """Seconds from emission to a sink, one per event; and what was left out."""

    seconds: list[float]
    collections: FullCollections = field(default_factory=FullCollections)
    replayed: int = 0
    """Events emitted before the viewer subscribed (handed over as a replay)."""
    late_storm: int = 0
    """Of those, events of the storm's branches: the viewer attached too late."""

    def pct(self, fraction: float) -> float:
        return percentile(self.seconds, fraction)

    def summary(self) -> str:
        text = (f"p50 {1000 * statistics.median(self.seconds):6.1f} ms, p95 "
                f"{1000 * self.pct(0.95):6.1f} ms, max {1000 * max(self.seconds):6.1f} ms "
                f"({len(self.seconds)} events; {self.collections.summary()})")
        if self.late_storm:
            text += (f"  !! attached after the storm began ({self.late_storm} of its events "
                     "replayed): raise --lead")
        return text


class Recorder:
    """A sink that notes when each event reached it, as plain floats: it keeps no event
    alive (a headless viewer keeps none either), so it adds no work for the collector."""

    def __init__(self) -> None:
        self.received: list[float] = []
        self.emitted: list[float] = []
        self.branch: list[bool] = []

    def __call__(self, event: ev.Event) -> None:
        self.received.append(time.time())
        self.emitted.append(event.at)
        step = getattr(event, "step_id", None)
        self.branch.append(isinstance(step, str) and step.startswith("b"))

    def latencies(self, since: float, collections: FullCollections) -> Latencies:
        """Latencies of the events emitted at or after ``since`` (epoch seconds)."""
        out = Latencies([], collections)
        for received, at, branch in zip(self.received, self.emitted, self.branch,
                                        strict=True):
            if at < since:
                out.replayed += 1
                out.late_storm += branch
            else:
                out.seconds.append(received - at)
        return out


def events_in_process(bench: Bench) -> Latencies:
    """Emission → a sink of the run in this process."""
    run = bench.local_run()
    recorder = Recorder()
    since = time.time()
    run.subscribe(recorder)
    with FullCollections() as collections:
        run.start()
        result = run.wait(RUN_SECONDS)
    assert result is not None and result.status == "completed", result
    return recorder.latencies(since, collections)


def events_attached(bench: Bench) -> Latencies:
    """Emission in the run process → a sink of a RemoteRun in this one."""
    child, path = bench.detached_run()
    remote = RemoteRun(path)
    try:
        recorder = Recorder()
        since = time.time()
        with FullCollections() as collections:
            remote.subscribe(recorder)
            result = remote.wait(RUN_SECONDS)
        assert result is not None and result.status == "completed", (result, remote.lost)
    finally:
        remote.close()
        bench.end(child)
    return recorder.latencies(since, collections)


# -- 2. key latency ------------------------------------------------------------------------


@dataclass
class Keys:
    """Key latencies (seconds) of one storm, and how the storm went."""

    seconds: list[float]
    events: int
    storm_seconds: float
    collections: FullCollections
    late: bool = False
    """The dashboard attached after the storm began."""

    def pct(self, fraction: float) -> float:
        return percentile(self.seconds, fraction)

    def summary(self) -> str:
        text = (f"p50 {1000 * statistics.median(self.seconds):6.1f} ms, p95 "
                f"{1000 * self.pct(0.95):6.1f} ms ({len(self.seconds)} keys; {self.events} "
                f"events in {self.storm_seconds:.1f} s; {self.collections.summary()})")
        if self.late:
            text += "  !! attached after the storm began: raise --lead"
        return text


def _lead_done(app: AilApp) -> bool:
    row = app.view.rows.get(LEAD)
    return row is not None and row.status == "done"


async def _press_during_storm(app: AilApp, handled: list[float]) -> Keys:
    """bench_dashboard's key loop (:func:`press_keys_while_running`), from the lead
    step's end to the run's end."""
    deadline = time.perf_counter() + RUN_SECONDS
    while not _lead_done(app):
        assert time.perf_counter() < deadline, "the lead step never finished"
        await asyncio.sleep(0.005)
    started = time.perf_counter()
    with FullCollections() as collections:
        latencies = await press_keys_while_running(app, handled)
    took = time.perf_counter() - started
    return Keys(latencies, app.events.received, took, collections)


async def _dashboard_storm(bench: Bench, pane: str,
                           attach: Callable[[], RemoteRun] | None) -> Keys:
    """Key latency of a dashboard during the storm: its own run, or an attached one."""
    remote = attach() if attach is not None else None
    app = AilApp(bench.pipeline_path, runner="stub", runners=bench.runners(),
                 watch_files=False, log_dir=bench.work / "runs", attach=remote)
    try:
        with key_probe() as handled:
            async with app.run_test(size=(160, 50)) as pilot:
                while app.pipeline is None:
                    await pilot.pause(0.05)
                app.tabs.active = pane
                ready = time.time()
                if remote is None:
                    await pilot.press("r")
                keys = await _press_during_storm(app, handled)
                lead = app.view.rows[LEAD]
                keys.late = lead.completed_at is not None and lead.completed_at < ready
                await pilot.pause(0.3)
                assert app.view.state == "completed", app.view.state
    finally:
        if remote is not None:
            remote.close()
    return keys


def keys_in_process(bench: Bench, pane: str) -> Keys:
    """The dashboard runs the storm itself (``r``), as in bench_dashboard."""
    return asyncio.run(_dashboard_storm(bench, pane, None))


def keys_attached(bench: Bench, pane: str) -> Keys:
    """The dashboard follows the storm run by a detached run process."""
    children: list[subprocess.Popen[bytes]] = []

    def attach() -> RemoteRun:
        child, path = bench.detached_run()
        children.append(child)
        return RemoteRun(path)

    try:
        return asyncio.run(_dashboard_storm(bench, pane, attach))
    finally:
        for child in children:
            bench.end(child)


# -- the rounds ----------------------------------------------------------------------------


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=500)
    parser.add_argument("--chunks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lead", type=float, default=2.5,
                        help="seconds of the quiet lead step (time to attach)")
    parser.add_argument("--pane", choices=("timeline", "output"), default="timeline",
                        help="the pane shown beside the steps table")
    parser.add_argument("--only", choices=("events", "keys"), help="one part only")
    args = parser.parse_args()
    pane = f"tab-{args.pane}"
    parts = [args.only] if args.only else ["events", "keys"]
    print(f"storm: {args.branches} async stub branches x {args.chunks} chunks over ~2 s, "
          f"after a {args.lead:.1f} s lead step; {args.rounds} rounds, in-process and "
          f"attached (a detached run process) taking turns")
    print("event latency: emission (the event's `at`) -> a sink in this process; "
          "key latency: `j` posted -> its action ran, during the storm")
    event_runs: dict[str, list[Latencies]] = {"in-process": [], "attached": []}
    key_runs: dict[str, list[Keys]] = {"in-process": [], "attached": []}
    signal.signal(signal.SIGTERM, _interrupt)  # like Ctrl-C: through the clean-up
    with bench_folders(args.branches, args.chunks, args.lead) as bench:
        for number in range(1, args.rounds + 1):
            order = ["in-process", "attached"]
            if number % 2 == 0:
                order.reverse()
            print(f"--- round {number}")
            if "events" in parts:
                for kind in order:
                    measure = events_in_process if kind == "in-process" else events_attached
                    result = measure(bench)
                    event_runs[kind].append(result)
                    print(f"  event latency, {kind:10}: {result.summary()}", flush=True)
            if "keys" in parts:
                for kind in order:
                    keys = (keys_in_process(bench, pane) if kind == "in-process"
                            else keys_attached(bench, pane))
                    key_runs[kind].append(keys)
                    print(f"  key latency ({args.pane}), {kind:10}: {keys.summary()}",
                          flush=True)
    print(f"--- medians over {args.rounds} rounds")
    if "events" in parts:
        for kind, runs in event_runs.items():
            print(f"  event latency, {kind:10}: p50 "
                  f"{_ms(statistics.median(statistics.median(r.seconds) for r in runs))}, "
                  f"p95 {_ms(statistics.median(r.pct(0.95) for r in runs))}, "
                  f"max {_ms(statistics.median(max(r.seconds) for r in runs))}")
        p95 = statistics.median(r.pct(0.95) for r in event_runs["attached"])
        print(f"  attached event latency p95 {_ms(p95)} (target < 50 ms: "
              f"{'met' if p95 < 0.05 else 'NOT met'})")
    if "keys" in parts:
        for kind, key_list in key_runs.items():
            pooled = Keys(sorted(s for k in key_list for s in k.seconds), 0, 0.0,
                          FullCollections())
            print(f"  key latency ({args.pane}), {kind:10}: p50 "
                  f"{_ms(statistics.median(statistics.median(k.seconds) for k in key_list))}, "
                  f"p95 {_ms(statistics.median(k.pct(0.95) for k in key_list))} "
                  f"(all {len(pooled.seconds)} keys pooled: p95 {_ms(pooled.pct(0.95))})")
        ratios = [a.pct(0.95) / i.pct(0.95)
                  for a, i in zip(key_runs["attached"], key_runs["in-process"], strict=True)]
        ratio = statistics.median(ratios)
        print(f"  key latency p95 attached/in-process per round: "
              f"{', '.join(f'{r:.2f}' for r in ratios)}; median {ratio:.3f} "
              f"(target <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
