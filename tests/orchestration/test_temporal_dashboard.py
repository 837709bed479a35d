"""The dashboard with ``--orchestration temporal``: in a real terminal, a run of the
ci_checks sample executes on a worker and ends on screen as a direct run does; without
run processes, the dashboard follows the Temporal run from its own process."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable

import pytest
from orchestration_helpers import ROOT, Project
from pilot_waits import start_run, until
from temporal_service import Worker
from tmux_session import Tmux, needs_tmux

from ail_tui.orchestration.temporal.client import TemporalRun
from ail_tui.orchestration.temporal_target import TemporalTarget
from ail_tui.runners.registry import RunnerFactory
from ail_tui.tui.app import AilApp

pytestmark = [pytest.mark.xdist_group("temporal"), pytest.mark.timeout(120)]


@needs_tmux
def test_the_dashboard_runs_a_sample_on_temporal_workers(
        project: Project, temporal: Callable[[], Worker]) -> None:
    temporal()
    shutil.copytree(ROOT / "sample_pipelines", project.work / "samples")
    exports = " ".join(f"{key}='{value}'" for key, value in project.env.items()
                       if key in ("HOME", "AIL_HOME", "PYTHONPATH", "AIL_TUI_RUNTIME_DIR",
                                  "AIL_TEST_TAG", "PATH"))
    term = Tmux(project.work)
    try:
        term.start(f"cd '{project.work}' && env {exports} TERM=xterm-256color "
                   f"'{sys.executable}' -m ail_tui samples/ci_checks.ail.yaml "
                   "--stub-script samples/stub_script.yaml " + " ".join(project.temporal),
                   width=140, height=40)
        term.wait_for("✓ valid")
        term.keys("r")
        screen = term.wait_for("Critical path", timeout=60)  # the summary, at the run's end
        assert "✓ completed" in screen and "⊘ smoke: " in screen
        term.keys("q")
        term.wait_exited()
    finally:
        term.close()
    (log,) = [path for path in project.log("x").parent.glob("*.jsonl")]
    records = [line for line in log.read_text().splitlines() if line]
    assert '"type":"run_finished"' in records[-1].replace(" ", "")


async def test_a_dashboard_without_run_processes_runs_on_temporal_from_its_own_process(
        project: Project, temporal: Callable[[], Worker]) -> None:
    """With no run processes (no private runtime folder), the dashboard follows the
    Temporal run itself, as it would a direct one in its own process."""
    temporal()
    pipeline = project.work / "p.ail.yaml"
    pipeline.write_text('version: "1"\npipeline:\n  - id: greet\n    prompt: "hi"\n'
                        "  - id: shout\n    context:\n      shell: \"echo loud\"\n")
    target = TemporalTarget(address=project.temporal_address, task_queue=project.queue)
    app = AilApp(pipeline, runner="stub", runners=RunnerFactory(stub_response="hello"),
                 log_dir=project.work / "runs", orchestration=target)
    async with app.run_test(size=(120, 36)) as pilot:
        await start_run(pilot, app)
        await until(pilot, lambda: app.view.state == "completed", timeout=60)
        assert isinstance(app.current_run, TemporalRun)
        assert [row.status for row in app.view.rows.values()] == ["done"] * 2
    (log,) = (project.work / "runs").glob("*.jsonl")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records[-1]["type"] == "run_finished" and records[-1]["status"] == "completed"
    assert [r["response"] for r in records if r.get("step_id") == "greet"
            and "type" not in r] == ["hello"]
