"""The dashboard with ``--orchestration temporal``, in a real terminal: a run of the
ci_checks sample executes on a worker and ends on screen as a direct run does."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable

import pytest
from orchestration_helpers import ROOT, Project
from temporal_service import Worker
from tmux_session import Tmux, needs_tmux

pytestmark = [needs_tmux, pytest.mark.xdist_group("temporal"), pytest.mark.timeout(120)]


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
