"""``ail-tui run --detach``, ``ps``, ``attach``, ``cancel`` and ``answer`` with real
processes (decisions A1–A5), each in a project folder with its own ``HOME``,
``AIL_HOME`` and runtime folder.

The pipelines are in ``tests/fixtures/detached/``. A held step waits for a file named
``release`` in the project folder, so a run lasts exactly as long as a test needs it to
(never a fixed time); steps that are only ever cancelled or killed sleep.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from orchestration_helpers import FIXTURES, Project, Served, ndjson
from processes import alive, none_tagged_within
from waiting import stays_false, wait_for

from ail_tui import detached_commands
from ail_tui.engine.run_types import RunStatus
from ail_tui.orchestration.control_protocol import Request
from ail_tui.orchestration.control_server import ControlServer
from ail_tui.orchestration.live_runs import new_note, write_note
from ail_tui.processes.marks import run_pids

pytestmark = [
    pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                       reason="finds step processes through /proc"),
    pytest.mark.timeout(60),
]

STUB = ("--stub-response", "stub-ok")
FAILS = ("--stub-script", str(FIXTURES / "fails.stub.yaml"))
RUN_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LEAK_WINDOW = 2.0
"""No process of a killed run is alive this long after the kill (D5)."""
SIGNAL_WINDOW = 1.5
"""How long a stop signal takes to end a run that obeys it (a run polls every 0.2 s)."""


def test_detach_prints_the_run_id_and_returns_while_the_run_goes_on(
        project: Project) -> None:
    started = time.monotonic()
    run_id = project.detach("held.ail.yaml", *STUB)
    took = time.monotonic() - started
    assert RUN_ID.match(run_id), run_id
    assert took < 10, f"run --detach took {took:.1f} s to return"
    # --detach returns before the run process has loaded the engine (A1: within a
    # second), so the log's first record may come a moment later.
    records = wait_for(lambda: project.records(run_id), 10, "the run's first record")
    assert records[0]["type"] == "run_started"
    assert not any(r.get("type") == "run_finished" for r in records), "still running"

    rows = project.ps()
    assert [row["run_id"] for row in rows] == [run_id]
    row = rows[0]
    assert alive(row["pid"]) and row["pid"] != os.getpid()
    assert row["detached"] is True
    assert row["pipeline_source"] == str(FIXTURES / "held.ail.yaml")
    assert abs(row["started_at"] - time.time()) < 60
    assert row["status"] == "running"
    assert row["gates"] == []
    assert {f"{run_id}.json", f"{run_id}.sock"} <= set(project.leftovers(run_id))

    project.marker("hold")
    assert project.row(run_id)["steps"] == {"done": 1, "running": 1}
    project.release()
    finished = project.finished(run_id)
    assert finished["status"] == "completed"
    wait_for(lambda: project.leftovers(run_id) == [], 10,
             "the run's note, socket and error file to go")
    assert project.ps() == []
    assert wait_for(lambda: not alive(row["pid"]), 10, "the run's process to exit")


def test_ps_text_lists_the_live_run(project: Project) -> None:
    run_id = project.detach("held.ail.yaml", *STUB)
    project.marker("hold")
    done = project.ail("ps")
    assert done.returncode == 0, done.stderr
    line, = done.stdout.splitlines()
    assert line.startswith(run_id) and "detached" in line and "held.ail.yaml" in line
    project.release()
    project.finished(run_id)
    assert project.ail("ps").stdout == "no live runs in this project\n"


def test_an_invalid_pipeline_is_not_detached(project: Project) -> None:
    sample = FIXTURES.parents[2] / "sample_pipelines" / "invalid.ail.yaml"
    done = project.ail("run", str(sample), "--detach", *STUB)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Step id 'review' appears more than once" in done.stderr, done.stderr
    assert "invalid.ail.yaml: invalid" in done.stderr
    assert list(project.runtime.iterdir()) == [], "nothing was started"
    assert project.ps() == []
    assert none_tagged_within(project.tag, 5) == []
    runs = project.log("x").parent
    assert not runs.exists() or list(runs.iterdir()) == []


@pytest.mark.parametrize(("pipeline", "options", "code", "last"), [
    ("held.ail.yaml", STUB, 0, "pipeline_completed"),
    ("held_then_fails.ail.yaml", FAILS, 1, "pipeline_error"),
], ids=["completes", "fails"])
def test_attach_headless_prints_the_whole_run_and_exits_with_its_code(
        project: Project, pipeline: str, options: tuple[str, ...], code: int,
        last: str) -> None:
    run_id = project.detach(pipeline, *options)
    project.marker("hold")
    attached = project.start("attach", run_id, "--headless")
    assert attached.stdout is not None
    first = attached.stdout.readline()  # attached: the run's events come
    project.release()
    out, err = attached.communicate(timeout=30)
    assert attached.returncode == code, err
    events = ndjson(first + out)
    assert events, err
    assert events[0]["type"] == "run_started" and events[0]["run_id"] == run_id
    assert events[-1]["type"] == last
    types = [e["type"] for e in events]
    assert types.count("run_started") == 1 and types.count(last) == 1
    assert {"step_started", "step_completed"} <= set(types)
    assert project.finished(run_id)["status"] == ("completed" if code == 0 else "failed")


def test_attach_to_a_finished_run_prints_it_from_its_log(project: Project) -> None:
    ran = project.ail("run", str(FIXTURES / "sequence.ail.yaml"), "--headless", *STUB)
    assert ran.returncode == 0, ran.stderr
    live = ndjson(ran.stdout)
    run_id = live[0]["run_id"]
    done = project.ail("attach", run_id, "--headless")
    assert done.returncode == 0, done.stderr
    replayed = ndjson(done.stdout)
    assert replayed[0]["type"] == "run_started" and replayed[-1]["type"] == "pipeline_completed"
    assert [(e["type"], e.get("step_id")) for e in replayed] == [
        (e["type"], e.get("step_id")) for e in live]


@pytest.mark.parametrize("command", [
    ("attach", "0123abcd-no-such-run", "--headless"),
    ("cancel", "0123abcd-no-such-run"),
    ("cancel", "0123abcd-no-such-run", "--step", "lint"),
    ("answer", "0123abcd-no-such-run", "gate", "--approve"),
], ids=["attach", "cancel", "cancel-step", "answer"])
def test_an_unknown_run_exits_1(project: Project, command: tuple[str, ...]) -> None:
    done = project.ail(*command)
    assert done.returncode == 1
    assert "no live run '0123abcd-no-such-run'" in done.stderr
    assert done.stdout == ""


def test_cancel_a_step_then_the_run(project: Project) -> None:
    run_id = project.detach("sleeping_branches.ail.yaml", *STUB)
    project.marker("slow_a")
    project.marker("slow_b")
    done = project.ail("cancel", run_id, "--step", "slow_a")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"cancelled step slow_a of run {run_id}\n"
    wait_for(lambda: any(r.get("type") == "step_cancelled" and r.get("step_id") == "slow_a"
                         for r in project.records(run_id)), 10, "slow_a to be cancelled")
    again = project.ail("cancel", run_id, "--step", "slow_a")
    assert again.returncode == 1 and "not running or queued" in again.stderr
    assert project.row(run_id)["steps"].get("cancelled") == 1

    done = project.ail("cancel", run_id)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"run {run_id} cancelled\n"
    records = project.records(run_id)
    assert records[-1]["type"] == "run_finished" and records[-1]["status"] == "cancelled"
    assert none_tagged_within(project.tag, 5) == [], "a process of the run is left"
    assert project.ps() == []
    assert project.leftovers(run_id) == []


def test_answer_approves_a_detached_runs_gate(project: Project) -> None:
    run_id = project.detach("gate.ail.yaml", *STUB)
    row = wait_for(lambda: (r := project.row(run_id)) and r["gates"] and r, 15,
                   "ps to show the run waiting at its gate")
    assert (row["status"], row["gates"]) == ("waiting", ["gate"])
    done = project.ail("answer", run_id, "gate", "--approve")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"approved the gate at gate of run {run_id}\n"
    assert project.finished(run_id)["status"] == "completed"


def test_answer_rejects_a_detached_runs_gate(project: Project) -> None:
    run_id = project.detach("gate.ail.yaml", *STUB)
    wait_for(lambda: (r := project.row(run_id)) and r["gates"] == ["gate"], 15,
             "ps to show the run waiting at its gate")
    done = project.ail("answer", run_id, "gate", "--reject")
    assert done.returncode == 0, done.stderr
    assert project.finished(run_id)["status"] == "aborted"


def test_answer_with_no_gate_waiting_exits_1(project: Project) -> None:
    run_id = project.detach("held.ail.yaml", *STUB)
    project.marker("hold")
    done = project.ail("answer", run_id, "hold", "--approve")
    assert done.returncode == 1
    assert f"no gate waits at step 'hold' of run {run_id}" in done.stderr
    assert project.finish_record(run_id) is None, "the run goes on"
    project.release()
    assert project.finished(run_id)["status"] == "completed"


def test_sighup_does_not_stop_a_detached_run(project: Project) -> None:
    run_id = project.detach("held.ail.yaml", *STUB)
    project.marker("hold")
    pid = project.row(run_id)["pid"]
    os.kill(pid, signal.SIGHUP)
    stays_false(lambda: project.finish_record(run_id) or not alive(pid), SIGNAL_WINDOW,
                "SIGHUP ended the detached run")
    project.release()
    assert project.finished(run_id)["status"] == "completed"


def test_kill_9_of_a_detached_run(project: Project) -> None:
    run_id = project.detach("sleeping_branches.ail.yaml", *STUB)
    project.marker("slow_a")
    project.marker("slow_b")
    pid = project.row(run_id)["pid"]
    assert run_pids(run_id), "the sleeping steps carry the run's mark"
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + LEAK_WINDOW
    wait_for(lambda: not alive(pid), LEAK_WINDOW, "the killed process to be gone")
    while (left := [p for p in run_pids(run_id) if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == [], f"step processes alive {LEAK_WINDOW} s after kill -9: {left}"
    assert none_tagged_within(project.tag, max(deadline - time.monotonic(), 0)) == [], (
        "a process the run started (its watchdog) outlived it by 2 s")
    # ps says it as soon as the dead process is reaped by its new parent (init); an
    # unreaped one is test_live_runs' test_a_run_whose_process_died_unreaped_is_not_live
    wait_for(lambda: project.ps() == [], 10, "ps to stop listing the killed run")
    assert not (project.runtime / f"{run_id}.json").exists(), "ps removed the stale note"
    assert not (project.runtime / f"{run_id}.sock").exists()
    done = project.ail("logs", "--format", "json")
    assert done.returncode == 0, done.stderr
    statuses = {row["run_id"]: row["status"] for row in json.loads(done.stdout)}
    assert statuses[run_id] == "interrupted"


def test_attach_as_the_run_ends_prints_it_from_its_log(
        serve, work: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The run's process ends between ``attach``'s hello and its subscribe (the server
    closes instead of answering the subscribe, as ``serve`` does when the run ends):
    attach still prints the whole run (from its log) and exits with the run's exit code,
    as for any finished run (A3)."""
    served: Served = serve("sequence.ail.yaml")
    served.start()
    assert served.finished().status == RunStatus.COMPLETED
    write_note(new_note(served.run.run_id, str(FIXTURES / "sequence.ail.yaml"),
                        served.run.log_path, detached=True, cwd=str(work)))
    answer = ControlServer.act

    def end_before_subscribing(self: ControlServer, request: Request, viewer: object
                               ) -> object:
        if request.op == "subscribe":  # the run's process ends now
            self.close(within=1.0)
            return None
        return answer(self, request, viewer)

    monkeypatch.setattr(ControlServer, "act", end_before_subscribing)
    code = detached_commands.cmd_attach(served.run.run_id, headless=True)
    printed = ndjson(capsys.readouterr().out)
    assert code == 0
    assert printed and printed[0]["type"] == "run_started"
    assert printed[-1]["type"] == "pipeline_completed"
