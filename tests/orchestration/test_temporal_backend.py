"""``--orchestration temporal`` against a real Temporal dev server and real ``ail-tui
worker`` processes: the backend never changes a run's meaning (decisions O1)."""

from __future__ import annotations

import collections
import contextlib
import json
import re
import subprocess
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from event_recorder import Recorder
from loopback_server import LoopbackServer
from orchestration_helpers import ROOT, Project, ndjson
from processes import gone_soon
from temporal_service import (
    ApartHandoff,
    Worker,
    temporal_program,
    worker_in_this_process,
    workflow_history,
)
from waiting import wait_for

from ail_tui.engine import events as ev
from ail_tui.orchestration.remote_run import RemoteRun
from ail_tui.orchestration.temporal_target import workflow_id
from ail_tui.runners.permissions import PermissionDecision
from ail_tui.turnlog.paths import runs_dir

pytestmark = [pytest.mark.xdist_group("temporal"), pytest.mark.timeout(240)]

SAMPLES = ROOT / "sample_pipelines"
SCRIPT = str(SAMPLES / "stub_script.yaml")
FIXTURES = ROOT / "tests" / "fixtures" / "temporal"
DETACHED = ROOT / "tests" / "fixtures" / "detached"
VOLATILE = frozenset({"at", "run_id", "launched_at", "completed_at", "duration_ms",
                      "elapsed_ms", "started_at", "finished_at", "project_hash"})
"""Keys whose values differ from run to run whatever runs them."""
GROUP = re.compile(r"cg-[0-9a-f]{8}")


def same_modulo_times(items: list[dict[str, Any]], run_id: str) -> collections.Counter[str]:
    """Events or records with times left out, the run id and concurrent groups renamed
    (groups in order of appearance), counted (branches interleave differently each
    time)."""
    groups: dict[str, str] = {}

    def group(match: re.Match[str]) -> str:
        return groups.setdefault(match.group(0), f"cg-{len(groups)}")

    out: collections.Counter[str] = collections.Counter()
    for item in items:
        kept = {key: value for key, value in item.items() if key not in VOLATILE}
        text = json.dumps(kept, sort_keys=True).replace(run_id, "RUN")
        out[GROUP.sub(group, text)] += 1
    return out


def run_id_of(events: list[dict[str, Any]]) -> str:
    started = next(event for event in events if event["type"] == "run_started")
    run_id: str = started["run_id"]
    return run_id


@pytest.mark.parametrize(("sample", "code"), [
    ("ci_checks.ail.yaml", 0),
    ("review_fanout.ail.yaml", 0),
    ("sequential.ail.yaml", 0),
    ("fail_fast_demo.ail.yaml", 1),
])
def test_a_sample_gives_the_same_events_and_turn_log_on_both_backends(
        project: Project, temporal: Callable[[], Worker], sample: str, code: int) -> None:
    temporal()
    direct = project.ail("run", str(SAMPLES / sample), "--headless", "--stub-script", SCRIPT)
    remote = project.ail("run", str(SAMPLES / sample), "--headless", "--stub-script", SCRIPT,
                         *project.temporal, within=120)
    assert (direct.returncode, remote.returncode) == (code, code), remote.stderr
    direct_events, remote_events = ndjson(direct.stdout), ndjson(remote.stdout)
    direct_id, remote_id = run_id_of(direct_events), run_id_of(remote_events)
    assert (same_modulo_times(remote_events, remote_id)
            == same_modulo_times(direct_events, direct_id))
    direct_log, remote_log = project.records(direct_id), project.records(remote_id)
    assert remote_log and remote_log[-1]["type"] == "run_finished"
    assert same_modulo_times(remote_log, remote_id) == same_modulo_times(direct_log, direct_id)


def test_a_worker_killed_mid_step_leaves_the_run_to_another_that_redoes_nothing(
        project: Project, temporal: Callable[[], Worker]) -> None:
    first = temporal()
    client = project.start("run", str(FIXTURES / "worker_killed.ail.yaml"), "--headless",
                           "--stub-response", "fine", *project.temporal)
    project.marker("slow")
    step_process = int((project.work / "ran.slow").read_text().split()[0])
    temporal()
    first.kill()
    assert gone_soon(step_process, 2.0), "the killed worker's step process lives on"
    out, err = client.communicate(timeout=120)
    assert client.returncode == 0, err
    events = ndjson(out)
    assert (project.work / "ran.first").read_text() == "once\n"
    assert (project.work / "ran.slow").read_text().split() == [str(step_process)]
    last = next(e for e in events if e["type"] == "step_started" and e["step_id"] == "last")
    assert last["resolved_prompt"] == "after recovered-by-reconcile\n"
    log = project.records(run_id_of(events))
    assert [r["type"] for r in log if r.get("type") in ("run_resumed", "run_finished")] == [
        "run_resumed", "run_finished"]
    (slow,) = [r for r in log if r.get("step_id") == "slow" and "type" not in r]
    assert slow["reconciled"] is True and slow["stdout"] == "recovered-by-reconcile\n"
    assert log[-1]["status"] == "completed"


def held_run(project: Project, temporal: Callable[[], Worker]
             ) -> tuple[subprocess.Popen[str], str]:
    """A headless client of ``held.ail.yaml`` on one worker, once ``hold`` has started;
    the client and the run id."""
    temporal()
    client = project.start("run", str(FIXTURES / "held.ail.yaml"), "--headless",
                           "--stub-response", "fine", *project.temporal)
    project.marker("hold")
    (row,) = project.ps()
    return client, str(row["run_id"])


def test_the_run_goes_on_when_its_client_is_killed_and_attach_follows_it_again(
        project: Project, temporal: Callable[[], Worker]) -> None:
    client, run_id = held_run(project, temporal)
    client.kill()
    client.wait()
    assert [(r["run_id"], r["status"]) for r in project.ps()] == [(run_id, "unfollowed")]
    viewer = project.start("attach", run_id[:8], "--headless")
    wait_for(lambda: [r["status"] for r in project.ps()] == ["running"], 30,
             "the run to be followed again")
    project.release()
    out, err = viewer.communicate(timeout=60)
    assert viewer.returncode == 0, err
    events = ndjson(out)
    assert events[0]["type"] == "run_started" and events[-1]["type"] == "pipeline_completed"
    records = project.records(run_id)
    started = [r["step_id"] for r in records if r.get("type") == "step_started"]
    assert started == ["before", "hold", "after"]
    assert records[-1]["type"] == "run_finished" and records[-1]["status"] == "completed"
    assert project.ps() == []


def test_cancelling_one_branch_ends_its_process_group_within_a_second(
        project: Project, temporal: Callable[[], Worker]) -> None:
    temporal()
    client = project.start("run", str(FIXTURES / "two_branches.ail.yaml"), "--headless",
                           *project.temporal)
    project.marker("one")
    project.marker("two")
    pid = int((project.work / "pid.one").read_text())
    (row,) = project.ps()
    done = project.ail("cancel", row["run_id"], "--step", "one")
    assert done.returncode == 0, done.stderr
    assert gone_soon(pid, 1.0), "the cancelled branch's process lives on"
    project.release()
    out, err = client.communicate(timeout=60)
    assert client.returncode == 0, err
    events = ndjson(out)
    cancelled = [e["step_id"] for e in events if e["type"] == "step_cancelled"]
    completed = [e["step_id"] for e in events if e["type"] == "step_completed"]
    assert cancelled == ["one"]
    assert sorted(completed) == ["after", "two"]


def test_a_gate_is_answered_through_the_workflow_after_its_worker_restarts(
        project: Project, temporal: Callable[[], Worker]) -> None:
    first = temporal()
    started = project.ail("run", str(DETACHED / "gate.ail.yaml"), "--detach",
                          "--stub-response", "ok", *project.temporal)
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()
    waiting = wait_for(lambda: (r := project.row(run_id)) and r["gates"] and r, 30,
                       "ps to show the run waiting at its gate")
    assert waiting["gates"] == ["gate"]
    first.kill()
    temporal()
    wait_for(lambda: any(e.get("type") == "run_resumed" for e in project.records(run_id)), 60,
             "the run to be resumed on the new worker")
    wait_for(lambda: (r := project.row(run_id)) and r["gates"] == ["gate"], 30,
             "the gate to wait again")
    done = project.ail("answer", run_id, "gate", "--approve")
    assert done.returncode == 0, done.stderr
    finished = project.finished(run_id, within=60)
    assert finished["status"] == "completed"
    steps = [r["step_id"] for r in project.records(run_id) if r.get("type") == "step_started"]
    assert steps.count("first") == 1, steps


def final_states(records: list[dict[str, Any]]) -> dict[str, str]:
    """Each step's last word in a turn log: completed, failed or cancelled."""
    states: dict[str, str] = {}
    for record in records:
        kind, step = record.get("type"), record.get("step_id")
        if step is None:
            continue
        if kind is None:
            states[step] = "completed"
        elif kind in ("step_error", "step_cancelled"):
            states[step] = "cancelled" if kind == "step_cancelled" else "failed"
    return states


@pytest.mark.parametrize("sample", ["ci_checks.ail.yaml", "review_fanout.ail.yaml",
                                    "sequential.ail.yaml", "fail_fast_demo.ail.yaml"])
def test_a_sample_ends_as_direct_when_one_of_two_workers_is_killed(
        project: Project, temporal: Callable[[], Worker], sample: str) -> None:
    first = temporal()
    temporal()
    direct = project.ail("run", str(SAMPLES / sample), "--headless", "--stub-script", SCRIPT)
    client = project.start("run", str(SAMPLES / sample), "--headless", "--stub-script",
                           SCRIPT, *project.temporal)
    assert client.stdout is not None
    lines = [client.stdout.readline()]
    while '"step_started"' not in lines[-1] and lines[-1]:
        lines.append(client.stdout.readline())
    first.kill()
    out, err = client.communicate(timeout=120)
    assert client.returncode == direct.returncode, err
    remote_events = ndjson("".join(lines) + out)
    direct_events = ndjson(direct.stdout)
    assert remote_events[-1]["type"] == direct_events[-1]["type"]
    assert (final_states(project.records(run_id_of(remote_events)))
            == final_states(project.records(run_id_of(direct_events))))


def test_a_body_beside_its_driver_hands_its_output_over_without_the_workflow(
        project: Project, temporal: Callable[[], Worker]) -> None:
    """With one worker, every body runs in its driver's process: its output streams to
    the client as ever, and the workflow's history has no ``body_chunks`` signal and no
    exchange answer per step."""
    temporal()
    done = project.ail("run", str(FIXTURES / "streaming.ail.yaml"), "--headless",
                       "--stub-script", str(FIXTURES / "streaming.stub.yaml"),
                       *project.temporal, within=120)
    assert done.returncode == 0, done.stderr
    events = ndjson(done.stdout)
    deltas = [e for e in events if e["type"] == "runner_event"
              and e["event"].get("type") == "stream_delta"]
    for step in ("first", "second"):
        texts = [e["event"]["text"] for e in deltas if e["step_id"] == step]
        assert len(texts) == 6 and "".join(texts) == "one two three four five six"
    history = workflow_history(project.temporal_address, run_id_of(events))
    signals = collections.Counter(
        e.workflow_execution_signaled_event_attributes.signal_name for e in history
        if e.HasField("workflow_execution_signaled_event_attributes"))
    assert signals["body_chunks"] == 0, signals
    answered = [e for e in history
                if e.HasField("workflow_execution_update_completed_event_attributes")]
    assert len(answered) <= 1, "the driver read a body's end back from the workflow"


@pytest.mark.parametrize("body_runs", ["beside its driver", "on another worker"])
def test_a_tool_use_is_asked_of_the_runs_viewer_and_the_decision_reaches_the_body(
        project: Project, temporal: Callable[[], Worker], body_runs: str) -> None:
    """A detached Temporal run asks its viewers before each tool use of a step, as a
    direct run does; the decision reaches the body wherever it runs (on another worker:
    through the workflow)."""
    with contextlib.ExitStack() as workers:
        if body_runs == "beside its driver":
            temporal()
        else:
            workers.enter_context(worker_in_this_process(
                project.temporal_address, project.queue, ApartHandoff()))
        run_id = project.detach(str(FIXTURES / "asks.ail.yaml"), "--stub-script",
                                str(FIXTURES / "asks.stub.yaml"), *project.temporal)
        viewer = RemoteRun(project.runtime / f"{run_id}.sock")
        seen = Recorder()
        viewer.subscribe(seen)
        decisions = {"Write": PermissionDecision(allow=True),
                     "Bash": PermissionDecision(allow=False, reason="not today")}
        for tool in ("Write", "Bash"):
            asked = seen.wait_for(lambda e, tool=tool: isinstance(e, ev.PermissionRequested)
                                  and e.tool_name == tool, 60)
            assert isinstance(asked, ev.PermissionRequested) and asked.step_id == "edit"
            assert [r["run_id"] for r in project.ps() if r["status"] == "waiting"] == [run_id]
            assert viewer.answer_permission(asked.request_id, decisions[tool])
            assert not viewer.answer_permission("edit#99", decisions[tool])
        finished = project.finished(run_id, within=60)
        viewer.close()
    assert finished["status"] == "completed"
    answered = [(e.tool_name, e.decision, e.reason) for e in seen.events
                if isinstance(e, ev.PermissionAnswered)]
    assert answered == [("Write", "once", None), ("Bash", "deny", "not today")]
    results = [e.event for e in seen.events
               if isinstance(e, ev.RunnerEvent) and e.event.get("type") == "tool_result"]
    assert [(r["content"], r.get("is_error", False)) for r in results] == [
        ("done", False), ("not today", True)]
    questions = [e for e in workflow_history(project.temporal_address, run_id)
                 if e.workflow_execution_signaled_event_attributes.signal_name == "question"]
    assert len(questions) == (0 if body_runs == "beside its driver" else 2)


def test_a_run_cancelled_with_temporals_own_cli_ends_cancelled_with_its_log_closed(
        project: Project, temporal: Callable[[], Worker]) -> None:
    client, run_id = held_run(project, temporal)
    cancelled = subprocess.run(
        [temporal_program(), "workflow", "cancel", "--address", project.temporal_address,
         "--workflow-id", workflow_id(run_id)],
        capture_output=True, text=True, timeout=60, check=False)
    assert cancelled.returncode == 0, cancelled.stderr
    out, err = client.communicate(timeout=60)
    events = ndjson(out)
    assert events[-1]["type"] == "pipeline_error" and events[-1]["status"] == "cancelled", err
    assert client.returncode == 130, err
    log = project.records(run_id)
    assert log[-1]["type"] == "run_finished" and log[-1]["status"] == "cancelled"
    assert not any(r.get("step_id") == "after" for r in log)


def test_a_resumed_http_step_continues_its_conversation_on_temporal(
        project: Project, temporal: Callable[[], Worker]) -> None:
    """Each body runs with runners of its own, maybe on another host: the conversation
    a ``resume: true`` step continues travels with it."""
    temporal()
    server = LoopbackServer()
    server.start()
    server.scenario.mode = "sse"
    try:
        pipeline = project.work / "chat.ail.yaml"
        pipeline.write_text(textwrap.dedent(f"""\
            version: "1"
            defaults:
              model: loop-model
              provider: {{base_url: "{server.base_url}"}}
            pipeline:
              - id: first
                runner: http
                prompt: "remember the number 7"
              - id: second
                runner: http
                resume: true
                prompt: "which number?"
            """), encoding="utf-8")
        done = project.ail("run", str(pipeline), "--headless", *project.temporal, within=120)
        assert done.returncode == 0, done.stderr
        first, second = (request.body["messages"] for request in server.requests)
        pointer = runs_dir(str(project.work)).parent / "last_pipeline"
        assert pointer.read_text(encoding="utf-8") == f"{pipeline}\n"  # as a direct run's
    finally:
        server.stop()
    assert first == [{"role": "user", "content": "remember the number 7"}]
    assert second == [*first, {"role": "assistant", "content": "Hello there"},
                      {"role": "user", "content": "which number?"}]
