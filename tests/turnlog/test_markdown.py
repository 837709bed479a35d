"""ail-log/1 bytes, the parallel-section timeline, and JSON, from turn logs."""

from __future__ import annotations

import json
from pathlib import Path

from ail_tui.turnlog.markdown import (
    cost_line,
    format_ail_log,
    format_json,
    format_json_steps,
    format_timeline,
)
from ail_tui.turnlog.reader import RunRecord, read_run

FIXED = {"cost_usd": None, "exit_code": None, "input_tokens": 0, "modified": None,
         "output_tokens": 0, "prompt": "", "response": None, "runner_session_id": None,
         "stderr": None, "stdout": None, "thinking": None, "tool_events": []}
GROUP = "cg-0000abcd"


def entry(step_id: str, **fields: object) -> dict:
    return {**FIXED, "step_id": step_id, **fields}


def ts(seconds: float) -> str:
    whole, millis = divmod(round(seconds * 1000), 1000)
    return f"2026-04-14T10:00:{whole:02d}.{millis:03d}Z"


def read(tmp_path: Path, records: list[dict]) -> RunRecord:
    path = tmp_path / "run.jsonl"
    path.write_text("".join(json.dumps(r, sort_keys=True, separators=(",", ":"),
                                       ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return read_run(path)


def test_ail_log_bytes(tmp_path: Path) -> None:
    run = read(tmp_path, [
        {"pipeline_source": "/w/p.ail.yaml", "project_hash": "h", "type": "run_started"},
        {"prompt": "git diff", "step_id": "diff", "type": "step_started"},
        entry("diff", prompt="git diff", stdout="a.py | 2 +-\n", stderr="warn", exit_code=0),
        {"prompt": "Review", "step_id": "review", "type": "step_started"},
        entry("review", prompt="Review", response="Looks fine.", cost_usd=0.0042,
              input_tokens=120, output_tokens=30, thinking="Let me read it.",
              tool_events=[
                  {"content_json": "file body", "event_type": "tool_result", "seq": 1,
                   "tool_id": "t1", "tool_name": ""},
                  {"content_json": '{"path":"a.py"}', "event_type": "tool_call", "seq": 0,
                   "tool_id": "t1", "tool_name": "Read"},
                  {"content_json": "a sub-agent's words", "event_type": "subagent_text",
                   "parent_tool_id": "t1", "seq": 2, "tool_id": "", "tool_name": ""}]),
        {"prompt": "fix", "step_id": "fix", "type": "step_started"},
        {"error_detail": "exit 1", "error_type": "ail:runner/invocation-failed",
         "on_error_action": "retry", "step_id": "fix", "type": "step_error"},
        {"prompt": "fix", "step_id": "fix", "type": "step_started"},
        entry("fix", prompt="fix", response="", cost_usd=0.01, input_tokens=5,
              output_tokens=7),
        {"prompt": "ship", "step_id": "ship", "type": "step_started"},
        {"error_detail": "boom", "error_type": "ail:runner/invocation-failed",
         "on_error_action": "continue", "step_id": "ship", "type": "step_error"},
        {"cancelled_by": "user", "reason": "stop", "step_id": "side",
         "type": "step_cancelled"},
        {"cost_usd": 0.5, "input_tokens": 3, "prompt": "old", "response": "partial",
         "step_id": "legacy"},
        {"prompt": "last", "step_id": "last", "type": "step_started"},
    ])
    assert run.status == "interrupted"
    assert format_ail_log(run) == (
        "ail-log/1\n"
        "\n## Turn 1 — `diff`\n"
        '\n:::stdio stream="stdout"\na.py | 2 +-\n\n:::\n'
        '\n:::stdio stream="stderr"\nwarn\n:::\n'
        "\n---\n_No cost (context step)_\n"
        "\n## Turn 2 — `review`\n"
        "\n:::thinking\nLet me read it.\n:::\n"
        '\n:::tool-call name="Read"\n{"path":"a.py"}\n:::\n'
        '\n:::tool-result name=""\nfile body\n:::\n'
        "\nLooks fine.\n"
        "\n---\n_Cost: $0.0042 | 120in / 30out tokens_\n"
        "\n## Turn 3 — `fix`\n"
        "\n---\n_Cost: $0.0100 | 5in / 7out tokens_\n"
        "\n## Turn 4 — `ship`\n"
        "\n> [!WARNING]\n> **Step failed:** boom\n"
        "\n## Turn 5 — `side`\n"
        "\n> [!WARNING]\n> **Step failed:** cancelled by user: stop\n"
        "\n## Turn 6 — `legacy`\n"
        "\npartial\n"
        "\n---\n_Cost: $0.5000_\n"
        "\n## Turn 7 — `last`\n"
        "\n> [!WARNING]\n> **Step failed:** interrupted (no result was recorded)\n"
    )


def test_empty_run_is_just_the_header(tmp_path: Path) -> None:
    run = read(tmp_path, [{"pipeline_source": None, "project_hash": "h",
                           "type": "run_started"}])
    assert format_ail_log(run) == "ail-log/1\n"


def test_cost_line_rule() -> None:
    assert cost_line({"cost_usd": 0.00005, "input_tokens": 1, "output_tokens": 2}) == (
        "_Cost: $0.0001 | 1in / 2out tokens_")
    assert cost_line({"cost_usd": 1, "input_tokens": 1}) == "_Cost: $1.0000_"
    assert cost_line({"cost_usd": None, "input_tokens": 0}) == "_No cost (context step)_"
    assert cost_line({"cost_usd": None}) is None


def parallel_run(tmp_path: Path) -> RunRecord:
    """lint runs 0–4 s; test queues, runs, fails at 2.4 s; fail_fast then cancels the
    running ``slow`` and the still-queued ``queued`` (spec spelling) at 2.6 s."""
    return read(tmp_path, [
        {"at": ts(0), "pipeline_source": "/w/p.ail.yaml", "project_hash": "h",
         "type": "run_started"},
        {"at": ts(0), "concurrent_group": GROUP, "launched_at": ts(0), "prompt": "lint",
         "step_id": "lint", "type": "step_started"},
        {"at": ts(0.2), "concurrent_group": GROUP, "launched_at": ts(0), "prompt": "slow",
         "step_id": "slow", "type": "step_started"},
        {"at": ts(0.4), "concurrent_group": GROUP, "launched_at": ts(0), "prompt": "test",
         "step_id": "test", "type": "step_started"},
        {"at": ts(2.4), "error_detail": "2 tests failed", "error_type":
         "ail:runner/invocation-failed", "on_error_action": "abort_pipeline",
         "step_id": "test", "type": "step_error"},
        {"at": ts(2.6), "cancelled_by": "fail_fast", "concurrent_group": GROUP,
         "launched_at": ts(0), "reason": "sibling 'test' failed", "step_id": "slow",
         "type": "step_cancelled"},
        {"at": ts(2.6), "cancelled_by": "fail_fast", "concurrent_group": GROUP,
         "event": "step_cancelled", "launched_at": ts(0), "reason": "sibling 'test' failed",
         "step_id": "queued"},
        entry("lint", prompt="lint", response="clean", concurrent_group=GROUP,
              launched_at=ts(0), started_at=ts(0), completed_at=ts(4)),
        {"at": ts(4.1), "error": "Join dependency 'test' failed (fail_fast): 2 tests failed",
         "error_type": "ail:pipeline/aborted", "status": "aborted", "type": "run_finished"},
    ])


def test_timeline_of_a_group_with_cancelled_steps(tmp_path: Path) -> None:
    lines = format_timeline(parallel_run(tmp_path), width=21).splitlines()
    assert lines == [
        "Timeline (seconds from each group's first launch):",
        "",
        f"{GROUP}  (4.00 s)",
        "  lint   ✓ done        |████████████████████ |   0.00 →   4.00",
        "  slow   ⊘ cancelled   |·████████████✕       |   0.20 →   2.60 by fail_fast",
        "  test   ✗ failed      |··██████████✗        |   0.40 →   2.40",
        "  queued ⊘ cancelled   |·············✕       |   0.00 →   2.60 by fail_fast",
    ]


def test_timeline_of_a_rust_group_and_its_join(tmp_path: Path) -> None:
    run = read(tmp_path, [
        {"pipeline_source": "/w/p.ail.yaml", "project_hash": "h", "type": "run_started"},
        entry("lint", concurrent_group=GROUP, launched_at=ts(0), completed_at=ts(1)),
        entry("test", concurrent_group=GROUP, launched_at=ts(0), completed_at=ts(2)),
        entry("checks", prompt="join:[lint,test]", response="[lint]:\n\n\n[test]:\n\n",
              launched_at=ts(0), completed_at=ts(2)),
    ])
    assert format_timeline(run, width=11).splitlines()[2:] == [
        f"{GROUP}  (2.00 s)",
        "  lint ✓ done        |█████      |   0.00 →   1.00",
        "  test ✓ done        |██████████ |   0.00 →   2.00",
        "  ⇒ join `checks` ✓ done at 2.00",
    ]


def test_sequential_run_has_no_parallel_sections(tmp_path: Path) -> None:
    run = read(tmp_path, [entry("a", response="x"), entry("b", response="y")])
    assert format_timeline(run) == "Timeline: no parallel sections\n"


def test_json_steps(tmp_path: Path) -> None:
    run = parallel_run(tmp_path)
    steps = {s["step_id"]: s for s in format_json_steps(run)}
    assert list(steps) == ["lint", "slow", "test", "queued"]
    assert steps["lint"] == {
        "step_id": "lint", "status": "done", "attempts": 1, "concurrent_group": GROUP,
        "launched_at": ts(0), "started_at": ts(0), "completed_at": ts(4),
        "cost_usd": None, "input_tokens": 0, "output_tokens": 0, "response": "clean",
        "error_type": None, "error": None, "cancelled_by": None}
    assert steps["test"]["status"] == "failed" and steps["test"]["error"] == "2 tests failed"
    assert steps["test"]["started_at"] == ts(0.4)
    assert steps["test"]["completed_at"] == ts(2.4)
    assert steps["queued"]["started_at"] is None
    assert steps["queued"]["cancelled_by"] == "fail_fast"
    assert steps["queued"]["error"] == "cancelled by fail_fast: sibling 'test' failed"
    whole = format_json(run)
    assert whole["status"] == "aborted" and whole["steps"] == format_json_steps(run)
    assert whole["error_type"] == "ail:pipeline/aborted" and whole["duration_s"] > 4
    json.dumps(whole)  # serialisable as is
