"""Step processes carry their run's mark, and a run ends whatever its steps left behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from processes import gone_soon

from ail_tui.processes.guard import GUARD
from ail_tui.processes.marks import marked_pids

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                                reason="finds processes through /proc")


@pytest.mark.timeout(30)
def test_a_process_that_left_its_group_ends_with_the_run(run_pipeline,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    run = run_pipeline(f"""
        version: "1"
        pipeline:
          - id: daemon
            context: {{shell: "setsid sleep 30 > /dev/null 2>&1 & echo $! > {pids}"}}
          - id: after
            context: {{shell: "echo after"}}
        """)
    assert run.result.status == "completed"
    assert run.entries()["after"]["stdout"] == "after\n"
    assert gone_soon(int(pids.read_text()), within=2.0)  # killed at the run's end
    assert marked_pids(GUARD.run_mark(run.result.run_id)) == []


def test_marks_name_the_guard_the_run_and_the_step() -> None:
    with GUARD.step("run-1") as first, GUARD.step("run-1") as second:
        assert GUARD.current_mark() == second
    assert first.startswith(GUARD.run_mark("run-1")) and second != first
    assert GUARD.current_mark() != GUARD.current_mark()  # unique outside a step
