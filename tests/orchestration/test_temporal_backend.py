"""``--orchestration temporal`` against a real Temporal dev server and real ``ail-tui
worker`` processes: the backend never changes a run's meaning (decisions O1)."""

from __future__ import annotations

import collections
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from orchestration_helpers import ROOT, Project, ndjson
from processes import gone_soon
from temporal_service import Worker

pytestmark = [pytest.mark.xdist_group("temporal"), pytest.mark.timeout(240)]

SAMPLES = ROOT / "sample_pipelines"
SCRIPT = str(SAMPLES / "stub_script.yaml")
FIXTURES = ROOT / "tests" / "fixtures" / "temporal"
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
    assert log[-1]["status"] == "completed"
