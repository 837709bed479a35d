"""ail-log/1 bytes, the text timeline, and JSON of a run."""

from __future__ import annotations

import json
from pathlib import Path

from ail_tui.turnlog.markdown import format_ail_log, format_json, format_timeline
from ail_tui.turnlog.reader import read_run

FIXED = {"cost_usd": None, "exit_code": None, "input_tokens": 0, "modified": None,
         "output_tokens": 0, "prompt": "", "response": None, "runner_session_id": None,
         "stderr": None, "stdout": None, "thinking": None, "tool_events": []}


def log(tmp_path: Path, records: list[dict]) -> Path:
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    return path


def test_ail_log_bytes(tmp_path: Path) -> None:
    run = read_run(log(tmp_path, [
        {"pipeline_source": "/p", "project_hash": "h", "type": "run_started"},
        {**FIXED, "step_id": "diff", "prompt": "git diff", "stdout": "a.py\n", "exit_code": 0},
        {**FIXED, "step_id": "review", "prompt": "Review", "response": "Looks fine.",
         "cost_usd": 0.0042, "input_tokens": 120, "output_tokens": 30, "thinking": "hmm",
         "tool_events": [{"content_json": '{"path":"a.py"}', "event_type": "tool_call",
                          "seq": 0, "tool_id": "t1", "tool_name": "Read"}]},
        {"prompt": "ship", "step_id": "ship", "type": "step_started"},
        {"error_detail": "boom", "error_type": "ail:runner/invocation-failed",
         "on_error_action": "continue", "step_id": "ship", "type": "step_error"},
    ]))
    assert format_ail_log(run) == (
        "ail-log/1\n"
        "\n## Turn 1 — `diff`\n"
        '\n:::stdio stream="stdout"\na.py\n\n:::\n'
        "\n---\n_No cost (context step)_\n"
        "\n## Turn 2 — `review`\n"
        "\n:::thinking\nhmm\n:::\n"
        '\n:::tool-call name="Read"\n{"path":"a.py"}\n:::\n'
        "\nLooks fine.\n"
        "\n---\n_Cost: $0.0042 | 120in / 30out tokens_\n"
        "\n## Turn 3 — `ship`\n"
        "\n> [!WARNING]\n> **Step failed:** boom\n"
    )


def test_timeline_lanes_and_cancel_marks(tmp_path: Path) -> None:
    group = "cg-0badcafe"
    run = read_run(log(tmp_path, [
        {**FIXED, "step_id": "fast", "concurrent_group": group,
         "launched_at": "2026-01-01T00:00:00.000Z", "started_at": "2026-01-01T00:00:00.000Z",
         "completed_at": "2026-01-01T00:00:01.000Z", "response": "ok"},
        {**FIXED, "step_id": "queued", "concurrent_group": group,
         "launched_at": "2026-01-01T00:00:00.000Z", "started_at": "2026-01-01T00:00:01.000Z",
         "completed_at": "2026-01-01T00:00:02.000Z", "response": "ok"},
        {"at": "2026-01-01T00:00:02.000Z", "prompt": "sleep", "step_id": "slow",
         "concurrent_group": group, "launched_at": "2026-01-01T00:00:00.000Z",
         "type": "step_started"},
        {"at": "2026-01-01T00:00:02.000Z", "cancelled_by": "user", "reason": "r",
         "step_id": "slow", "concurrent_group": group, "type": "step_cancelled"},
    ]))
    text = format_timeline(run, width=21)
    lines = text.splitlines()
    assert lines[2] == f"{group}  (2.00 s)"
    assert lines[3] == "  fast   ✓ done        |██████████           |   0.00 →   1.00"
    assert lines[4] == "  queued ✓ done        |··········██████████ |   1.00 →   2.00"
    assert lines[5].endswith("by user") and "✕|" in lines[5]


def test_sequential_run_has_no_parallel_sections(tmp_path: Path) -> None:
    run = read_run(log(tmp_path, [{**FIXED, "step_id": "a"}]))
    assert format_timeline(run) == "Timeline: no parallel sections\n"
    data = format_json(run)
    assert data["steps"][0]["step_id"] == "a" and data["status"] == "completed"
