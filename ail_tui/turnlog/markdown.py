"""Showing a run: the ail-log/1 markdown (brief §11), a text timeline, and JSON."""

from __future__ import annotations

from typing import Any

from ail_tui.turnlog.reader import RunRecord, StepRecord

GLYPHS = {"done": "✓", "failed": "✗", "cancelled": "⊘", "retried": "↻", "running": "…",
          "interrupted": "?", "skipped": "-", "unknown": "?"}


def _cost_line(entry: dict[str, Any]) -> str | None:
    cost = entry.get("cost_usd")
    tokens_in, tokens_out = entry.get("input_tokens"), entry.get("output_tokens")
    if cost is None:
        return "_No cost (context step)_"
    if tokens_in is not None and tokens_out is not None:
        return f"_Cost: ${cost:.4f} | {tokens_in}in / {tokens_out}out tokens_"
    return f"_Cost: ${cost:.4f}_"


def format_ail_log(run: RunRecord) -> str:
    """The ail-log/1 document: one turn per step, in first-appearance order."""
    parts = ["ail-log/1\n"]
    for number, step in enumerate(run.steps, 1):
        parts.append(f"\n## Turn {number} — `{step.step_id}`\n")
        entry = step.entry or {}
        failed = step.status in ("failed", "cancelled", "interrupted")
        if entry.get("thinking"):
            parts.append(f"\n:::thinking\n{entry['thinking']}\n:::\n")
        for event in sorted(entry.get("tool_events") or [], key=lambda e: e.get("seq", 0)):
            kind = "tool-call" if event.get("event_type") == "tool_call" else "tool-result"
            parts.append(f'\n:::{kind} name="{event.get("tool_name", "")}"\n'
                         f'{event.get("content_json", "")}\n:::\n')
        response = entry.get("response")
        if response and not failed:
            parts.append(f"\n{response}\n")
        for stream in ("stdout", "stderr"):
            text = entry.get(stream)
            if text:
                parts.append(f'\n:::stdio stream="{stream}"\n{text}\n:::\n')
        if failed:
            detail = step.error or "Step failed"
            parts.append(f"\n> [!WARNING]\n> **Step failed:** {detail}\n")
        elif entry:
            line = _cost_line(entry)
            if line:
                parts.append(f"\n---\n{line}\n")
    return "".join(parts)


def _offset(moment: float | None, origin: float) -> str:
    return "   —  " if moment is None else f"{moment - origin:6.2f}"


def format_timeline(run: RunRecord, width: int = 60) -> str:
    """A text timeline of each concurrent group: queued ``·``, running ``█``, cancel ``✕``."""
    groups = run.groups()
    if not groups:
        return "Timeline: no parallel sections\n"
    lines = ["Timeline (seconds from each group's first launch):"]
    for group, steps in groups.items():
        moments = [m for s in steps for m in (s.launched_at, s.started_at, s.completed_at)
                   if m is not None]
        if not moments:
            continue
        origin, end = min(moments), max(moments)
        span = max(end - origin, 1e-6)
        name_width = max(len(s.step_id) for s in steps)
        lines.append(f"\n{group}  ({span:.2f} s)")
        for step in steps:
            lines.append("  " + _lane(step, origin, span, width, name_width))
    return "\n".join(lines) + "\n"


def _lane(step: StepRecord, origin: float, span: float, width: int, name_width: int) -> str:
    def col(moment: float | None) -> int | None:
        if moment is None:
            return None
        return min(width - 1, max(0, round((moment - origin) / span * (width - 1))))

    bar = [" "] * width
    launched, started, ended = col(step.launched_at), col(step.started_at), col(
        step.completed_at)
    begin = started if started is not None else launched
    if launched is not None and begin is not None:
        for i in range(launched, begin):
            bar[i] = "·"
    if begin is not None and ended is not None:
        for i in range(begin, max(ended, begin + 1)):
            bar[min(i, width - 1)] = "█"
    status = step.status
    if status == "cancelled" and ended is not None:
        bar[ended] = "✕"
    elif status == "failed" and ended is not None:
        bar[ended] = "✗"
    last = step.attempts[-1] if step.attempts else None
    note = f" by {last.cancelled_by}" if last and status == "cancelled" else ""
    return (f"{step.step_id:<{name_width}} {GLYPHS.get(status, '?')} {status:<11} "
            f"|{''.join(bar)}| {_offset(step.started_at or step.launched_at, origin)} → "
            f"{_offset(step.completed_at, origin)}{note}")


def format_json(run: RunRecord) -> dict[str, Any]:
    """The run as JSON: its status and one object per step."""
    def stamp(entry: dict[str, Any] | None, key: str) -> Any:
        return entry.get(key) if entry else None

    return {
        "run_id": run.run_id,
        "pipeline_source": run.pipeline_source,
        "status": run.status,
        "error_type": run.error_type,
        "error": run.error,
        "total_cost_usd": run.total_cost,
        "torn_tail": run.torn_tail,
        "steps": [
            {
                "step_id": step.step_id,
                "status": step.status,
                "attempts": len(step.attempts),
                "concurrent_group": step.concurrent_group,
                "launched_at": stamp(step.entry, "launched_at"),
                "started_at": stamp(step.entry, "started_at"),
                "completed_at": stamp(step.entry, "completed_at"),
                "cost_usd": step.cost_usd,
                "input_tokens": step.input_tokens,
                "output_tokens": step.output_tokens,
                "response": stamp(step.entry, "response"),
                "error": step.error if step.status != "done" else None,
            }
            for step in run.steps
        ],
    }
