"""A bundled sample pipeline on the real Claude Code CLI: what ail-tui records is the CLI's.

``sample_pipelines/sequential.ail.yaml`` (chains, a condition, a loop: five prompts) runs
with ``--runner claude`` against the loopback API, headless and in the dashboard; every
prompt step's tokens, cost and model, in the turn log and in the steps table, are the ones
the CLI's own ``result`` and ``system/init`` lines report, in order.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from anthropic_api import streamed_text
from pilot_waits import until
from real_claude import ROOT, RealClaude

from ail_tui.tui.app import AilApp

SAMPLE = ROOT / "sample_pipelines" / "sequential.ail.yaml"
PROMPT_STEPS = ["plan::before::0", "plan", "plan::then::0", "changelog", "polish::note"]

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                                reason="finds the CLI's processes through /proc")


def _reported(claude: RealClaude) -> list[dict[str, Any]]:
    """What the CLI reported for each of its runs, in order: tokens, cost, model."""
    lines = claude.cli_lines()
    models = [line["model"] for line in lines
              if line.get("type") == "system" and line.get("subtype") == "init"]
    results = [line for line in lines if line.get("type") == "result"]
    assert len(results) == len(models) == len(PROMPT_STEPS)
    return [{"input_tokens": r["usage"]["input_tokens"],
             "output_tokens": r["usage"]["output_tokens"],
             "cost_usd": r["total_cost_usd"], "model": model}
            for r, model in zip(results, models, strict=True)]


@pytest.mark.timeout(120)
def test_headless_sample_records_what_the_cli_reports(claude: RealClaude) -> None:
    claude.api.play(streamed_text(usage=(100, 20)))
    run = claude.headless(SAMPLE.read_text(encoding="utf-8"))
    _, err = run.communicate(timeout=100)
    assert run.returncode == 0, err
    prompted = [e for e in claude.turn_entries() if e.get("runner_session_id")]
    assert [e["step_id"] for e in prompted] == PROMPT_STEPS
    assert [{key: e[key] for key in ("input_tokens", "output_tokens", "cost_usd", "model")}
            for e in prompted] == _reported(claude)


@pytest.mark.timeout(120)
async def test_dashboard_sample_shows_what_the_cli_reports(
        claude: RealClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    claude.api.play(streamed_text(usage=(100, 20)))
    monkeypatch.setenv("PATH", f"{claude.wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("AIL_HOME", str(claude.ail_home))
    monkeypatch.chdir(claude.project)
    path = claude.project / SAMPLE.name
    path.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    app = AilApp(path, runner="claude", watch_files=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.pipeline is not None and app.runner_checks is not None)
        await pilot.press("r")
        await until(pilot, lambda: app.view.state == "break", timeout=90)
        shown = [{column: app.table.get_cell(step, column)
                  for column in ("tokens", "cost", "model")} for step in PROMPT_STEPS]
    assert shown == [{"tokens": f"{r['input_tokens']}/{r['output_tokens']}",
                      "cost": f"${r['cost_usd']:.4f}", "model": r["model"]}
                     for r in _reported(claude)]
    [log] = list(claude.ail_home.rglob("*.jsonl"))
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [e.get("model") for e in entries if e.get("runner_session_id")] == [
        r["model"] for r in _reported(claude)]
