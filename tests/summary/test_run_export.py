"""A run's summary written out: the Markdown document, the JSON schema, the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ail_tui.run_export import (
    SCHEMA,
    default_path,
    format_of,
    read_json,
    render_json,
    render_markdown,
    write_export,
)
from ail_tui.run_summary import RunSummary, summarize
from ail_tui.tui.run_view import RunView, StepRow

T0 = 1_776_160_800.0  # 2026-04-14T10:00:00Z


def failed_run() -> RunSummary:
    view = RunView(run_id="c14a7d75-195f-45b6", state="failed", started_at=T0,
                   finished_at=T0 + 3.25, error="step 'preview' failed",
                   error_type="ail:shell/timeout")
    rows = [StepRow("lint", "shell", "done", launched_at=T0, started_at=T0,
                    completed_at=T0 + 0.5, attempts=1, response="lint: no issues | ok"),
            StepRow("preview", "shell", "failed", launched_at=T0, started_at=T0,
                    completed_at=T0 + 2, attempts=2, error="timed out\nafter 2 s"),
            StepRow("smoke", "shell", "cancelled", depends_on=("preview",), launched_at=T0,
                    completed_at=T0 + 2, cancelled_by="dependency",
                    error="cancelled by dependency: dependency 'preview' failed"),
            StepRow("ask", "prompt", "done", launched_at=T0 + 2, started_at=T0 + 2,
                    completed_at=T0 + 3.25, attempts=1, model="opus", cost_usd=0.125,
                    input_tokens=1200, output_tokens=34,
                    response="Here:\n```python\nprint(1)\n```\ndone")]
    for row in rows:
        view.rows[row.step_id] = row
    return summarize(view, now=T0 + 60, runners={"ask": "claude"},
                     pipeline="sample_pipelines/ci_checks.ail.yaml")


def test_markdown_tells_the_run_in_sections() -> None:
    text = render_markdown(failed_run())
    assert text.startswith("# Run c14a7d75 — failed\n")
    for line in ("- Pipeline: `sample_pipelines/ci_checks.ail.yaml`",
                 "- Status: **failed** — step 'preview' failed (ail:shell/timeout)",
                 "- Started: 2026-04-14T10:00:00.000Z",
                 "- Wall time: 3.2 s",
                 "- Steps: 2 done, 1 failed, 1 cancelled",
                 "- Cost: $0.1250 · tokens: 1,200 in, 34 out"):
        assert line in text.splitlines()
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections == ["## Critical path", "## By runner", "## Steps",
                        "## Failed and cancelled", "## Responses"]


def test_markdown_tables() -> None:
    lines = render_markdown(failed_run()).splitlines()
    assert "| 1 | `preview` | +0.0 s | 2.0 s |" in lines
    assert "| 2 | `ask` | +2.0 s | 1.2 s |" in lines
    assert "|  | **total** |  | **3.2 s** of 3.2 s wall |" in lines
    assert "| shell | — | 3 | — | 0 | 0 |" in lines
    assert "| claude | opus | 1 | $0.1250 | 1,200 | 34 |" in lines
    assert ("| `preview` | shell | failed | 2.0 s | 2 | shell | — | 0 | 0 |" in lines)
    assert ("| `ask` | prompt | done | 1.2 s | 1 | claude | $0.1250 | 1,200 | 34 |"
            in lines)


def test_markdown_failures_and_responses() -> None:
    text = render_markdown(failed_run())
    assert "- `preview` (failed): timed out after 2 s" in text
    assert "- `smoke` (cancelled): cancelled by dependency: dependency 'preview' failed" in text
    # A response holding a fence is fenced with a longer one; | stays as it is.
    assert "### `ask`\n\n````text\nHere:\n```python\nprint(1)\n```\ndone\n````" in text
    assert "### `lint`\n\n```text\nlint: no issues | ok\n```" in text
    assert "### `preview`" not in text  # it did not answer


def test_json_round_trips_with_its_schema() -> None:
    summary = failed_run()
    text = render_json(summary)
    data = json.loads(text)
    assert data["schema"] == SCHEMA == "ail-tui-run-summary/1"
    assert {"run_id", "status", "wall_seconds", "critical_path", "runners", "steps",
            "counts"} <= set(data)
    assert data["critical_path"][0] == {"step_id": "preview", "offset": 0.0, "duration": 2.0}
    assert data["steps"][3]["cost_usd"] == 0.125 and data["steps"][3]["runner"] == "claude"
    assert read_json(text) == summary


def test_json_of_another_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="ail-tui-run-summary/1"):
        read_json(json.dumps({"schema": "something/2"}))


def test_the_default_path_and_the_format_a_name_asks_for(tmp_path: Path) -> None:
    assert default_path("c14a7d75-195f", "markdown", tmp_path) == tmp_path / "ail-run-c14a7d75.md"
    assert default_path("c14a7d75-195f", "json", tmp_path).name == "ail-run-c14a7d75.json"
    assert format_of("x/run.JSON") == "json" and format_of("run.md") == "markdown"
    assert format_of("run.txt") == "markdown"


def test_an_export_is_written_whole_into_new_folders(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "run.json"
    written = write_export(failed_run(), "json", target)
    assert written == target
    assert read_json(target.read_text(encoding="utf-8")) == failed_run()
    assert sorted(p.name for p in target.parent.iterdir()) == ["run.json"]  # no leftovers


def test_a_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "run.md"
    target.write_text("old", encoding="utf-8")

    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("ail_tui.run_export.os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_export(failed_run(), "markdown", target)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.md"]
