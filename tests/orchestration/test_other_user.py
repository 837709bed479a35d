"""Only the run's owner reaches it (decisions A7): another user cannot even connect (the
runtime folder is 0700), and when the folder and socket are opened to everyone, the
server still checks the caller's uid and refuses it, and the run goes on.

The other user is ``nobody`` (65534): the tests run its client with ``setuid``, so they
need root and a kernel that allows it; otherwise they are skipped and say why.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from orchestration_helpers import Served

from ail_tui.engine import events as ev
from ail_tui.engine.run_types import RunStatus

NOBODY = 65534
CLIENT = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect(sys.argv[1])
except OSError as error:
    print(json.dumps({"connected": False, "errno": error.errno}))
    sys.exit(0)
try:
    s.sendall(b'{"id": 1, "op": "cancel", "reason": "nobody says stop"}\n')
except OSError:
    pass
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
print(json.dumps({"connected": True, "said": data.decode("utf-8", "replace")}))
"""


def as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), user=NOBODY, group=NOBODY, extra_groups=[],
                          cwd="/", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                          capture_output=True, text=True, timeout=30)


def nobodys_python() -> str:
    """An interpreter ``nobody`` may run (this venv's may live in root's home)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run a client as another user (nobody)")
    for candidate in (sys.executable, "/usr/bin/python3", "/bin/python3",
                      "/usr/local/bin/python3"):
        if not Path(candidate).exists():
            continue
        try:
            probe = as_nobody(candidate, "-I", "-c", "import socket, json")
        except PermissionError as error:
            if error.errno == errno.EPERM:  # setuid refused (no CAP_SETUID, a sandbox)
                pytest.skip(f"setuid to nobody is not permitted here: {error}")
            continue  # EACCES: nobody may not run this one
        except OSError:
            continue
        if probe.returncode == 0:
            return candidate
    pytest.skip("no Python interpreter that the user nobody may run")


def client(python: str, path: Path) -> dict:
    done = as_nobody(python, "-I", "-c", CLIENT, str(path))
    assert done.returncode == 0, done.stderr
    answer: dict = json.loads(done.stdout)
    return answer


@pytest.fixture
def gated(serve) -> Served:
    """A run waiting at its gate."""
    served: Served = serve("gate.ail.yaml", interactive=True).start()
    served.recorder.wait_for(lambda e: isinstance(e, ev.HitlGateReached))
    return served


def goes_on(served: Served) -> None:
    """The run was not cancelled: it still waits at its gate; answered, it completes."""
    assert served.run.wait(0) is None
    assert not any(isinstance(e, ev.StepCancelled | ev.PipelineError)
                   for e in served.recorder.events)
    owner = served.viewer()
    assert owner.status()["gates"] == ["gate"]
    assert owner.answer_gate("gate")
    assert served.finished().status == RunStatus.COMPLETED


def test_another_user_cannot_reach_the_private_runtime_folder(gated: Served,
                                                              runtime: Path) -> None:
    python = nobodys_python()
    assert (runtime.stat().st_mode & 0o777) == 0o700
    answer = client(python, gated.path)
    assert answer == {"connected": False, "errno": 13}  # EACCES
    goes_on(gated)


def test_another_user_is_refused_by_the_server_even_with_the_socket_open(
        gated: Served, runtime: Path) -> None:
    python = nobodys_python()
    runtime.chmod(0o777)
    gated.path.chmod(0o666)
    try:
        answer = client(python, gated.path)
    finally:
        gated.path.chmod(0o600)
        runtime.chmod(0o700)
    assert answer["connected"] is True
    lines = [json.loads(line) for line in answer["said"].splitlines() if line.strip()]
    assert len(lines) == 1, answer  # the refusal, and nothing of the run
    assert lines[0]["ok"] is False
    assert "only the run's owner" in lines[0]["error"]
    assert gated.server.viewers == 0
    goes_on(gated)
