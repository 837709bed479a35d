"""Turn entries: the record of a completed step, as kept in memory and written to the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ail_tui.turnlog.timestamps import format_timestamp, parse_timestamp


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
    iteration: tuple[int, ...] = ()
    """Inside loops: the 1-based iteration of each enclosing loop, outermost first."""
    reused_from: str | None = None
    """The run this result was taken from instead of running the step (ours, D1/D4)."""
    reconciled: bool = False
    """The step was in flight at a crash and its ``reconcile:`` command recovered this."""

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
        if self.iteration:
            record["iteration"] = list(self.iteration)
        if self.reused_from is not None:
            record["reused_from"] = self.reused_from
        if self.reconciled:
            record["reconciled"] = True
        if self.launched_at is not None:
            record["launched_at"] = format_timestamp(self.launched_at)
        if self.started_at is not None:
            record["started_at"] = format_timestamp(self.started_at)
        if self.completed_at is not None:
            record["completed_at"] = format_timestamp(self.completed_at)
        return record


_TEXTS = ("prompt", "response", "runner_session_id", "thinking", "stdout", "stderr",
          "modified", "concurrent_group", "model", "reused_from")
_INTS = ("input_tokens", "output_tokens", "exit_code", "index")
_TIMES = ("launched_at", "started_at", "completed_at")


def entry_from_record(record: dict[str, Any], *, times: bool = True) -> TurnEntry:
    """The TurnEntry a log record holds (ours or Rust's); odd values are left out
    (``times``: its launch, start and completion times, else none)."""
    get = record.get
    fields: dict[str, Any] = {name: value for name in _TEXTS
                              if isinstance(value := get(name), str)}
    fields.update((name, value) for name in _INTS
                  if isinstance(value := get(name), int) and not isinstance(value, bool))
    cost = get("cost_usd")
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        fields["cost_usd"] = float(cost)
    tools = get("tool_events")
    if isinstance(tools, list) and tools:
        fields["tool_events"] = [t for t in tools if isinstance(t, dict)]
    sampling = get("sampling")
    if isinstance(sampling, dict):
        fields["sampling"] = sampling
    if times:
        fields.update((name, parse_timestamp(value)) for name in _TIMES
                      if isinstance(value := get(name), str))
    iteration = get("iteration")
    if isinstance(iteration, list) and all(isinstance(i, int) for i in iteration):
        fields["iteration"] = tuple(iteration)
    return TurnEntry(step_id=str(get("step_id", "")), reconciled=get("reconciled") is True,
                     **fields)
