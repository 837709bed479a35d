"""Turn-log records for tests that write a log by hand: entries, starts, errors, times."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ail_tui.turnlog.timestamps import parse_timestamp

FIXED: dict[str, Any] = {
    "cost_usd": None, "exit_code": None, "input_tokens": 0, "modified": None,
    "output_tokens": 0, "prompt": "", "response": None, "runner_session_id": None,
    "stderr": None, "stdout": None, "thinking": None, "tool_events": []}
"""The 13 keys every TurnEntry has (brief §9)."""

RUN_STARTED: dict[str, Any] = {"pipeline_source": "/w/p.ail.yaml", "project_hash": "5d41",
                               "type": "run_started"}
"""A ``run_started`` as the Rust ``ail`` writes it (no ``at``)."""


def ts(seconds: float) -> str:
    """The turn-log timestamp ``seconds`` after 10:00 on a fixed day."""
    whole, millis = divmod(round(seconds * 1000), 1000)
    return f"2026-04-14T10:{whole // 60:02d}:{whole % 60:02d}.{millis:03d}Z"


def at(seconds: float) -> float:
    """The epoch seconds of :func:`ts`."""
    moment = parse_timestamp(ts(seconds))
    assert moment is not None
    return moment


def entry(step_id: str, **fields: object) -> dict[str, Any]:
    """A TurnEntry record."""
    return {**FIXED, "step_id": step_id, **fields}


def started(step_id: str, prompt: str = "p", **fields: object) -> dict[str, Any]:
    """A ``step_started`` record."""
    return {"prompt": prompt, "step_id": step_id, "type": "step_started", **fields}


def error(step_id: str, action: str, detail: str = "boom", **fields: object) -> dict[str, Any]:
    """A ``step_error`` record with ``on_error_action`` ``action``."""
    return {"error_detail": detail, "error_type": "ail:runner/invocation-failed",
            "on_error_action": action, "step_id": step_id, "type": "step_error", **fields}


def rust_opening(stderr: str = "") -> list[dict[str, Any]]:
    """How the Rust logs of these tests begin: ``run_started``, then the ``diff`` shell
    step (``git diff --stat``), started and done."""
    return [RUN_STARTED, started("diff", "git diff --stat"),
            entry("diff", prompt="git diff --stat", stdout=" a.py | 2 +-\n", stderr=stderr,
                  exit_code=0)]


def write(tmp_path: Path, records: list[dict[str, Any]], name: str = "run", *,
          tail: str = "") -> Path:
    """``records`` as the log ``tmp_path/name.jsonl`` (``tail``: raw text after them)."""
    path = tmp_path / f"{name}.jsonl"
    text = "".join(json.dumps(r, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False) + "\n" for r in records)
    path.write_text(text + tail, encoding="utf-8")
    return path
