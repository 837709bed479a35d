"""Choosing where a run executes (decisions O1): a clear line for every mistake, and no
Temporal import unless it is chosen."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from test_run_headless import ROOT, SAMPLES, ail

SEQUENTIAL = str(SAMPLES / "sequential.ail.yaml")


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"  # nothing listens once it is closed


@pytest.mark.parametrize("how", ["--headless", "--detach"])
def test_an_unknown_backend_is_one_line_and_starts_nothing(tmp_path: Path, how: str) -> None:
    done = ail("run", SEQUENTIAL, how, "--orchestration", "k8s", home=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "ail-tui: unknown orchestration 'k8s': choose direct or temporal\n"


@pytest.mark.parametrize("args", [
    ("run", SEQUENTIAL, "--headless", "--orchestration", "temporal"),
    ("run", SEQUENTIAL, "--detach", "--orchestration", "temporal"),
    ("worker",),
])
def test_an_unreachable_service_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    address = closed_port()
    done = ail(*args, "--address", address, home=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (f"ail-tui: cannot reach the Temporal service at {address}: "
                           "connection refused (start one with 'ail-tui dev-server', or set "
                           "AIL_TEMPORAL_ADDRESS)\n")
    assert done.stdout == ""


def test_validate_and_direct_runs_never_load_temporal(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from ail_tui.cli import main\n"
        f"assert main(['validate', {SEQUENTIAL!r}]) == 0\n"
        f"assert main(['run', {SEQUENTIAL!r}, '--headless', '--stub-response', 'x']) == 0\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('temporalio'))\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={"AIL_HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
                                         "HOME": str(tmp_path)}, timeout=60)
    assert done.returncode == 0, done.stderr
