"""A headless run in the foreground is live too (decisions A2–A5): ``ps`` lists it,
``attach --headless`` follows it and ``cancel`` ends it, as for a detached run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
HELD = ROOT / "tests" / "fixtures" / "detached" / "held.ail.yaml"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    runtime = Path(tempfile.mkdtemp(prefix="ailrt", dir="/tmp"))  # short: a socket's path
    runtime.chmod(0o700)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    yield {**os.environ, "AIL_HOME": str(tmp_path / "home"), "PYTHONPATH": path,
           "AIL_TUI_RUNTIME_DIR": str(runtime)}
    shutil.rmtree(runtime, ignore_errors=True)


def ail(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ail_tui", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=60, check=False)


@pytest.mark.timeout(90)
def test_a_headless_run_is_listed_followed_and_cancelled_from_elsewhere(
        env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(HELD, project / "p.ail.yaml")
    run = subprocess.Popen([sys.executable, "-m", "ail_tui", "run", "p.ail.yaml",
                            "--headless", "--stub-response", "ok"], cwd=project, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    follower: subprocess.Popen[str] | None = None
    try:
        wait_for(lambda: (project / "started.hold").exists(), 30, "the held step")
        listed = json.loads(ail(env, project, "ps", "--format", "json").stdout)
        assert [(r["pid"], r["detached"], r["status"]) for r in listed] == [
            (run.pid, False, "running")]
        run_id = listed[0]["run_id"]
        follower = subprocess.Popen([sys.executable, "-m", "ail_tui", "attach", run_id,
                                     "--headless"], cwd=project, env=env,
                                    stdout=subprocess.PIPE, text=True)
        assert follower.stdout is not None
        first = follower.stdout.readline()  # it follows the live run (not its log)
        cancelled = ail(env, project, "cancel", run_id[:8])
        assert cancelled.returncode == 0, cancelled.stderr
        assert cancelled.stdout.strip() == f"run {run_id} cancelled"
        followed = first + follower.stdout.read()  # to its end (the test's timeout bounds it)
        follower.wait(10)
        out, err = run.communicate(timeout=30)
    finally:
        for process in (run, follower):
            if process is not None and process.poll() is None:
                process.kill()
    assert run.returncode == 130, err
    own = [json.loads(line) for line in out.splitlines()]
    seen = [json.loads(line) for line in followed.splitlines()]
    assert seen == own  # the viewer printed the run's own NDJSON, from run_started on
    assert own[0]["type"] == "run_started"
    assert (own[-1]["type"], own[-1]["status"]) == ("pipeline_error", "cancelled")
    assert follower.returncode == 130
    assert json.loads(ail(env, project, "ps", "--format", "json").stdout) == []
    assert not list(Path(env["AIL_TUI_RUNTIME_DIR"]).iterdir())  # nothing left behind
