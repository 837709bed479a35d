"""Showing a run: ail-log/1 markdown (brief §11), a text timeline of its parallel
sections, and JSON — all built from the turn log (no SQLite).

ail-log/1 from a turn log: one turn per step id in first-appearance order (the ``unknown``
turn Rust shows for ``run_started`` is left out); a step's blocks come from its last
TurnEntry. Steps whose last attempt failed, was cancelled or was interrupted get the
``Step failed`` warning instead of the response and cost line.

Our additions, only in logs that have them: a resumed run (D1) gets a line
``— resumed at TIME after a crash —`` where it was resumed, and its steps get a turn per
segment they ran in; a step inside loops gets a turn per iteration, its heading ending
with `` (iteration 2)`` (nested: ``2.1``, outermost first); a result reused from an
earlier run (D4) or recovered by ``reconcile`` (D3) says so in an italic line under the
heading. Retries within one turn stay folded into it, as before.
"""

from __future__ import annotations

import json
from typing import Any

from ail_tui.turnlog.reader import RunRecord, Segment, StepRecord
from ail_tui.turnlog.store import local_time
from ail_tui.turnlog.timestamps import format_timestamp

GLYPHS = {"done": "✓", "failed": "✗", "cancelled": "⊘", "retried": "↻", "running": "…",
          "interrupted": "?", "skipped": "-", "unknown": "?"}
FAILED = ("failed", "cancelled", "interrupted")
INTERRUPTED_DETAIL = "interrupted (no result was recorded)"
RESUMED_AFTER = {"interrupted": "a crash", "failed": "it failed", "aborted": "it was aborted",
                 "cancelled": "it was cancelled"}
RECONCILED_NOTE = "Reconciled: recovered by its `reconcile` command after the run stopped"


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number: float | int = value
    return number


def cost_line(entry: dict[str, Any]) -> str | None:
    """The cost line of a turn, or None when there is neither cost nor token count."""
    cost = _number(entry.get("cost_usd"))
    tokens_in = _number(entry.get("input_tokens"))
    tokens_out = _number(entry.get("output_tokens"))
    if cost is None:
        if tokens_in is None and tokens_out is None:
            return None
        return "_No cost (context step)_"
    if tokens_in is not None and tokens_out is not None:
        return f"_Cost: ${cost:.4f} | {tokens_in}in / {tokens_out}out tokens_"
    return f"_Cost: ${cost:.4f}_"


def _tool_events(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Tool calls and results by ``seq`` (ours also holds sub-agent text: not ail-log/1's)."""
    events = [e for e in entry.get("tool_events") or [] if isinstance(e, dict)
              and e.get("event_type") in ("tool_call", "tool_result")]
    return sorted(events, key=lambda e: s if isinstance(s := e.get("seq"), int) else 0)


def failure_detail(step: StepRecord) -> str:
    """What the ``Step failed`` warning says for a step that did not finish."""
    if step.status == "interrupted":
        return INTERRUPTED_DETAIL
    return step.error or "Step failed"


def format_turn(number: int, step: StepRecord) -> str:
    """One ail-log/1 turn."""
    iteration = step.attempts[-1].iteration if step.attempts else None
    suffix = f" (iteration {'.'.join(map(str, iteration))})" if iteration else ""
    parts = [f"\n## Turn {number} — `{step.step_id}`{suffix}\n"]
    if step.reused_from is not None:
        parts.append(f"\n_Reused from run {step.reused_from}_\n")
    if step.reconciled:
        parts.append(f"\n_{RECONCILED_NOTE}_\n")
    entry = step.entry or {}
    failed = step.status in FAILED
    thinking = entry.get("thinking")
    if thinking:
        parts.append(f"\n:::thinking\n{thinking}\n:::\n")
    for event in _tool_events(entry):
        kind = "tool-call" if event.get("event_type") == "tool_call" else "tool-result"
        content = event.get("content_json", "")
        if not isinstance(content, str):
            content = json.dumps(content, sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False)
        parts.append(f'\n:::{kind} name="{event.get("tool_name") or ""}"\n{content}\n:::\n')
    response = entry.get("response")
    if response and not failed:
        parts.append(f"\n{response}\n")
    for stream in ("stdout", "stderr"):
        text = entry.get(stream)
        if text:
            parts.append(f'\n:::stdio stream="{stream}"\n{text}\n:::\n')
    if failed:
        parts.append(f"\n> [!WARNING]\n> **Step failed:** {failure_detail(step)}\n")
    elif entry and (line := cost_line(entry)) is not None:
        parts.append(f"\n---\n{line}\n")
    return "".join(parts)


def turns(run: RunRecord) -> list[Segment | StepRecord]:
    """The document's parts in log order: each resume (a :class:`Segment` but the first),
    and a turn per step, run segment and loop iteration: a step holding the attempts that
    ran in it (for a log without resumes or loops: every step as the reader has it)."""
    parts: list[Segment | StepRecord] = []
    views: dict[tuple[int, str, tuple[int, ...] | None], StepRecord] = {}
    segment = 0
    for step, attempt in run.all_attempts():
        while segment < attempt.segment:
            segment += 1
            parts.append(run.segments[segment])
        key = (attempt.segment, step.step_id, attempt.iteration)
        if key not in views:
            views[key] = StepRecord(step.step_id, concurrent_group=step.concurrent_group,
                                    order=step.order)
            parts.append(views[key])
        views[key].attempts.append(attempt)
    parts.extend(run.segments[segment + 1:])
    return parts


def resumed_line(run: RunRecord, segment: Segment) -> str:
    """``— resumed at TIME after a crash —`` (or after it failed, was aborted, …)."""
    ended = run.segments[segment.index - 1].ended or "unknown"
    after = RESUMED_AFTER.get(ended, f"it ended ({ended})")
    return f"— resumed at {local_time(segment.at)} after {after} —"


def format_ail_log(run: RunRecord) -> str:
    """The ail-log/1 document of a run."""
    parts, number = ["ail-log/1\n"], 0
    for part in turns(run):
        if isinstance(part, Segment):
            parts.append(f"\n{resumed_line(run, part)}\n")
        else:
            number += 1
            parts.append(format_turn(number, part))
    return "".join(parts)


# -- timeline -------------------------------------------------------------------------


def _offset(moment: float | None, origin: float) -> str:
    return "   —  " if moment is None else f"{moment - origin:6.2f}"


def format_timeline(run: RunRecord, width: int = 60) -> str:
    """A text timeline of each concurrent group, one lane per step.

    ``·`` queued (launched → started), ``█`` running (started → completed), ``✕`` where a
    step was cancelled (with who cancelled it), ``✗`` where it failed; offsets are seconds
    from the group's first launch. Joins of a group's steps follow its lanes.
    """
    groups = run.groups()
    if not groups:
        return "Timeline: no parallel sections\n"
    width = max(width, 2)
    joins = [s for s in run.steps if s.join_deps]
    lines = ["Timeline (seconds from each group's first launch):"]
    for group, members in groups.items():
        steps = sorted(members, key=lambda s: (s.launched_at is None, s.launched_at or 0.0,
                                               s.order))
        name_width = max(len(s.step_id) for s in steps)
        moments = [m for s in steps for m in (s.launched_at, s.started_at, s.completed_at)
                   if m is not None]
        if not moments:
            lines.append(f"\n{group}  (no timestamps)")
            lines.extend(f"  {s.step_id:<{name_width}} {GLYPHS.get(s.status, '?')} "
                         f"{s.status}" for s in steps)
            continue
        origin = min(moments)
        span = max(max(moments) - origin, 1e-6)
        lines.append(f"\n{group}  ({span:.2f} s)")
        lines.extend("  " + _lane(s, origin, span, width, name_width) for s in steps)
        ids = {s.step_id for s in steps}
        for join in joins:
            if ids.intersection(join.join_deps):
                joins.remove(join)
                lines.append(f"  ⇒ join `{join.step_id}` {GLYPHS.get(join.status, '?')} "
                             f"{join.status} at {_offset(join.completed_at, origin).strip()}")
                break
    return "\n".join(lines) + "\n"


def _lane(step: StepRecord, origin: float, span: float, width: int, name_width: int) -> str:
    def col(moment: float | None) -> int | None:
        if moment is None:
            return None
        return min(width - 1, max(0, round((moment - origin) / span * (width - 1))))

    bar = [" "] * width
    launched, started, ended = col(step.launched_at), col(step.started_at), col(
        step.completed_at)
    if started is None and step.entry is not None:
        started = launched  # Rust entries: queue time unknown, count it as running
    if started is None:  # never began: queued until cancelled / failed / now
        if launched is not None:
            for i in range(launched, width if ended is None else ended):
                bar[i] = "·"
    else:
        for i in range(launched if launched is not None else started, started):
            bar[i] = "·"
        stop = width if ended is None else max(ended, started + 1)
        for i in range(started, min(stop, width)):
            bar[i] = "█"
    status = step.status
    if ended is not None and status in ("cancelled", "failed"):
        bar[ended] = "✕" if status == "cancelled" else "✗"
    last = step.attempts[-1] if step.attempts else None
    note = f" by {last.cancelled_by}" if last and status == "cancelled" else ""
    return (f"{step.step_id:<{name_width}} {GLYPHS.get(status, '?')} {status:<11} "
            f"|{''.join(bar)}| {_offset(step.started_at or step.launched_at, origin)} → "
            f"{_offset(step.completed_at, origin)}{note}")


# -- JSON -----------------------------------------------------------------------------


def format_json_steps(run: RunRecord) -> list[dict[str, Any]]:
    """One object per step, in first-appearance order (times as the log wrote them)."""
    out = []
    for step in run.steps:
        entry = step.entry or {}
        last = step.attempts[-1] if step.attempts else None
        failed = step.status in FAILED
        out.append({
            "step_id": step.step_id,
            "status": step.status,
            "attempts": len(step.attempts),
            "concurrent_group": step.concurrent_group,
            "launched_at": step.times.get("launched_at"),
            "started_at": step.times.get("started_at"),
            "completed_at": step.times.get("completed_at"),
            "cost_usd": step.cost_usd,
            "input_tokens": step.input_tokens,
            "output_tokens": step.output_tokens,
            "response": entry.get("response"),
            "error_type": last.error_type if last and failed else None,
            "error": failure_detail(step) if failed else None,
            "cancelled_by": last.cancelled_by if last else None,
        })
    return out


def format_json(run: RunRecord) -> dict[str, Any]:
    """The run for ``ail-tui log --format json``: its status and ``steps``."""
    return {
        "run_id": run.run_id,
        "pipeline_source": run.pipeline_source,
        "status": run.status,
        "error_type": run.error_type,
        "error": run.error,
        "total_cost_usd": run.total_cost,
        "duration_s": run.duration,
        "torn_tail": run.torn_tail,
        "warnings": list(run.warnings),
        "resumable": run.resumable,
        "resumes": json_times(run.resumes),
        "steps": format_json_steps(run),
        "attempts": format_json_attempts(run),
    }


def json_times(moments: list[float | None]) -> list[str | None]:
    """Times as the turn log writes them (None stays None)."""
    return [None if m is None else format_timestamp(m) for m in moments]


def format_json_attempts(run: RunRecord) -> list[dict[str, Any]]:
    """One object per attempt, in the order the log opened them."""
    return [{
        "step_id": step.step_id,
        "attempt": attempt.number,
        "status": attempt.status,
        "segment": attempt.segment,
        "iteration": list(attempt.iteration) if attempt.iteration else None,
        "reused_from": attempt.reused_from,
        "reconciled": attempt.reconciled,
        "error_type": attempt.error_type,
        "error": attempt.error,
        "cancelled_by": attempt.cancelled_by,
    } for step, attempt in run.all_attempts()]
