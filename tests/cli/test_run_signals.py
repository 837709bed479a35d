"""A headless run ends cleanly on any stop signal and leaves no process, even after kill -9."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from processes import TAG_VARIABLE, none_tagged_within, tagged
from test_run_headless import _env, ail, events

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                                reason="finds step processes through /proc")

BRANCHES = 20


def _wide(tmp_path: Path, command: str = "sleep 30 & sleep 31") -> Path:
    """A pipeline of BRANCHES parallel shell branches, each starting two processes."""
    lines = ['version: "1"', "defaults:", f"  max_concurrency: {BRANCHES}", "pipeline:"]
    for i in range(BRANCHES):
        lines += [f"  - id: b{i}", "    async: true", f"    context: {{shell: '{command}'}}"]
    lines += ["  - id: gate", "    action: join",
              f"    depends_on: [{', '.join(f'b{i}' for i in range(BRANCHES))}]"]
    path = tmp_path / "wide.ail.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


class Run:
    """``ail-tui run --headless`` in the background, tagged, reading its events."""

    def __init__(self, tmp_path: Path, pipeline: Path) -> None:
        self.tag = uuid.uuid4().hex
        self.home = tmp_path / "home"
        env = {**_env(self.home), TAG_VARIABLE: self.tag}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ail_tui", "run", str(pipeline), "--headless"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)

    def wait_for_started(self, count: int, within: float = 15) -> None:
        """Until ``count`` step_started events have been printed."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + within
        seen = 0
        while seen < count:
            assert time.monotonic() < deadline, f"only {seen} steps started"
            line = self.process.stdout.readline()
            assert line, "the run ended early"
            seen += json.loads(line)["type"] == "step_started"

    def stop(self, sig: int, within: float = 2.0) -> tuple[float, str, str]:
        """Send ``sig``; how long the process took to exit, and the rest of its output."""
        sent = time.monotonic()
        self.process.send_signal(sig)
        out, err = self.process.communicate(timeout=10)
        return time.monotonic() - sent, out, err

    def last_record(self) -> dict[str, object]:
        [log] = list(self.home.rglob("*.jsonl"))
        record: dict[str, object] = json.loads(log.read_text().splitlines()[-1])
        return record

    def kill_leftovers(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=10)


@pytest.fixture
def started(tmp_path: Path):  # type: ignore[no-untyped-def]
    runs: list[Run] = []

    def start(pipeline: Path) -> Run:
        run = Run(tmp_path, pipeline)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.kill_leftovers()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_stop_signal_cancels_the_run_cleanly(tmp_path: Path, started, sig: int) -> None:  # type: ignore[no-untyped-def]
    run = started(_wide(tmp_path))
    run.wait_for_started(BRANCHES)
    took, out, err = run.stop(sig)
    assert run.process.returncode == 130, err
    assert took < 2.0
    assert "Traceback" not in err
    last = events(out)[-1]
    assert last["type"] == "pipeline_error" and last["status"] == "cancelled"
    name = signal.Signals(sig).name
    assert last["error"] == f"interrupted ({name})"
    assert run.last_record()["type"] == "run_finished"
    assert run.last_record()["status"] == "cancelled"
    assert none_tagged_within(run.tag, 2.0) == []


@pytest.mark.timeout(60)
def test_a_second_signal_forces_the_exit(tmp_path: Path, started) -> None:  # type: ignore[no-untyped-def]
    # Each step ignores SIGTERM, so the first signal's cancel waits for the kill grace;
    # the second ends everything at once.
    run = started(_wide(tmp_path, "trap \"\" TERM; sleep 30 & sleep 31"))
    run.wait_for_started(BRANCHES)
    run.process.send_signal(signal.SIGTERM)
    took, _, err = run.stop(signal.SIGTERM)
    assert took < 2.0
    assert run.process.returncode == 130, err
    assert "Traceback" not in err
    assert none_tagged_within(run.tag, 2.0) == []


@pytest.mark.timeout(240)
def test_kill_9_at_random_moments_leaves_no_step_process(tmp_path: Path, started) -> None:  # type: ignore[no-untyped-def]
    pipeline = _wide(tmp_path)
    chance = random.Random(20261130)
    survivors: dict[float, list[int]] = {}
    for _ in range(20):
        run = started(pipeline)
        moment = chance.uniform(0.0, 1.5)
        time.sleep(moment)  # the moment of the crash is the point of this test
        run.process.kill()
        run.process.communicate(timeout=10)
        left = none_tagged_within(run.tag, 2.0)
        if left:
            survivors[round(moment, 3)] = left
    assert survivors == {}


@pytest.mark.timeout(60)
def test_kill_9_of_a_run_with_20_running_branches(tmp_path: Path, started) -> None:  # type: ignore[no-untyped-def]
    run = started(_wide(tmp_path))
    run.wait_for_started(BRANCHES)
    deadline = time.monotonic() + 10
    while len(tagged(run.tag)) < 2 + 3 * BRANCHES:  # the run, the watchdog, sh + 2 sleeps
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run.process.kill()
    run.process.communicate(timeout=10)
    assert none_tagged_within(run.tag, 2.0) == []


@pytest.mark.timeout(60)
def test_a_process_that_left_the_group_does_not_hold_a_timed_out_step(
        tmp_path: Path, started) -> None:  # type: ignore[no-untyped-def]
    pipeline = tmp_path / "setsid.ail.yaml"
    pipeline.write_text('version: "1"\npipeline:\n'
                        "  - id: hold\n    timeout_seconds: 1\n"
                        "    context: {shell: 'setsid sleep 15 & sleep 60'}\n")
    run = started(pipeline)
    out, err = run.process.communicate(timeout=8)  # was 15 s: the reader waited for sleep
    assert run.process.returncode == 1, err
    assert events(out)[-1]["error"] == "Step 'hold' shell command timed out after 1 s"
    assert none_tagged_within(run.tag, 2.0) == []


@pytest.mark.timeout(60)
def test_a_running_run_is_listed_as_running_and_a_killed_one_as_interrupted(
        tmp_path: Path, started) -> None:  # type: ignore[no-untyped-def]
    run = started(_wide(tmp_path))
    run.wait_for_started(BRANCHES)
    listed = ail("logs", "--format", "json", home=run.home, cwd=tmp_path)
    assert [r["status"] for r in json.loads(listed.stdout)] == ["running"]
    shown = json.loads(ail("log", "--format", "json", home=run.home, cwd=tmp_path).stdout)
    assert {s["status"] for s in shown["steps"]} == {"running"}
    run.process.kill()
    run.process.communicate(timeout=10)
    listed = ail("logs", "--format", "json", home=run.home, cwd=tmp_path)
    assert [r["status"] for r in json.loads(listed.stdout)] == ["interrupted"]
    none_tagged_within(run.tag, 2.0)


@pytest.mark.timeout(60)
def test_a_closed_stdout_is_no_error(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.ail.yaml"
    pipeline.write_text('version: "1"\npipeline:\n  - id: a\n    context: {shell: "echo hi"}\n')
    done = subprocess.run(
        f'"{sys.executable}" -m ail_tui run "{pipeline}" --headless >&-', shell=True,
        capture_output=True, text=True, env=_env(tmp_path / "home"), cwd=tmp_path,
        timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
