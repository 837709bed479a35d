"""Turn entries: the record of a completed step, as kept in memory and written to the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ail_tui.turnlog.timestamps import format_timestamp


@dataclass
class TurnEntry:
    """One completed step (brief §9: 13 keys always written, 5+ only when set)."""

    step_id: str
    prompt: str = ""
    response: str | None = None
    cost_usd: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    runner_session_id: str | None = None
    thinking: str | None = None
    tool_events: list[dict[str, Any]] = field(default_factory=list)
    stdout: str | None = None
    stderr: str | None = None
    exit_code: int | None = None
    modified: str | None = None
    index: int | None = None
    sampling: dict[str, Any] | None = None
    concurrent_group: str | None = None
    launched_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    model: str | None = None

    @property
    def result(self) -> str:
        """``result``: stdout and stderr by Rust's rule for shell steps, else the response."""
        if self.stdout is None and self.stderr is None:
            return self.response or ""
        out, err = self.stdout or "", self.stderr or ""
        if not err:
            return out
        if not out:
            return err
        return out + "\n" + err

    def to_record(self) -> dict[str, Any]:
        """The JSONL TurnEntry (no ``type`` key)."""
        record: dict[str, Any] = {
            "cost_usd": self.cost_usd,
            "exit_code": self.exit_code,
            "input_tokens": self.input_tokens,
            "modified": self.modified,
            "output_tokens": self.output_tokens,
            "prompt": self.prompt,
            "response": self.response,
            "runner_session_id": self.runner_session_id,
            "stderr": self.stderr,
            "stdout": self.stdout,
            "step_id": self.step_id,
            "thinking": self.thinking,
            "tool_events": self.tool_events,
        }
        if self.index is not None:
            record["index"] = self.index
        if self.sampling:
            record["sampling"] = self.sampling
        if self.concurrent_group is not None:
            record["concurrent_group"] = self.concurrent_group
        if self.model is not None:  # ours, additive: the model the runner reported
            record["model"] = self.model
        for name in ("launched_at", "started_at", "completed_at"):
            value = getattr(self, name)
            if value is not None:
                record[name] = format_timestamp(value)
        return record
