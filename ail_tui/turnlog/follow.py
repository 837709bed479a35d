"""Following runs as they go: ``ail-tui log --follow`` and ``ail-tui logs --tail``.

Both poll the turn logs (the reader knows whether a run is still running: its writer
holds a lock on the log) and yield text to print. A Rust run holds no lock: it is
followed as it stands and the follow ends at once.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ail_tui.turnlog.markdown import format_json, format_timeline, format_turn, resumed_line, turns
from ail_tui.turnlog.reader import RunRecord, Segment, StepRecord, read_run
from ail_tui.turnlog.store import RunSummary, list_runs

POLL_SECONDS = 0.25
"""How often a followed run's log is read again."""
TAIL_POLL_SECONDS = 1.0
"""How often ``logs --tail`` lists the runs again."""


def _key(part: Segment | StepRecord) -> tuple[object, ...]:
    if isinstance(part, Segment):
        return ("resumed", part.index)
    first = part.attempts[0]
    return (first.segment, part.step_id, first.iteration)


def _new_turns(run: RunRecord, shown: set[tuple[object, ...]], ended: bool) -> str:
    """The ail-log/1 parts not shown yet whose step is no longer running (every part
    once the run has ended), numbered as in the whole document."""
    out, number = [], 0
    for part in turns(run):
        if isinstance(part, StepRecord):
            number += 1
        key = _key(part)
        if key in shown or (isinstance(part, StepRecord) and part.status == "running"
                            and not ended):
            continue
        shown.add(key)
        out.append(f"\n{resumed_line(run, part)}\n" if isinstance(part, Segment)
                   else format_turn(number, part))
    return "".join(out)


def follow_run(path: Path, output_format: str = "markdown", *, poll: float = POLL_SECONDS,
               sleep: Callable[[float], None] = time.sleep) -> Iterator[str]:
    """The run's log, piece by piece, until the run is no longer running.

    ``markdown``: the ail-log/1 header, then each turn once its step has finished (in the
    order steps finish; numbers as in the whole document), then the timeline. ``raw``: the
    JSONL's lines as they are written. ``json``: the run's JSON once it has ended.
    Raises ``OSError`` when the log cannot be read.
    """
    shown: set[tuple[object, ...]] = set()
    offset = 0
    if output_format == "markdown":
        yield "ail-log/1\n"
    while True:
        run = read_run(path)
        ended = run.status != "running"
        if output_format == "markdown":
            if text := _new_turns(run, shown, ended):
                yield text
        elif output_format == "raw":
            with open(path, "rb") as log:
                log.seek(offset)
                data = log.read()
            whole = data[:data.rfind(b"\n") + 1] if not ended else data
            offset += len(whole)
            if whole:
                yield whole.decode("utf-8", "replace")
        if ended:
            break
        sleep(poll)
    if output_format == "markdown":
        yield "\n" + format_timeline(run)
    elif output_format == "json":
        yield json.dumps(format_json(run), indent=2, ensure_ascii=False) + "\n"


def tail_runs(count: int, select: Callable[[list[RunSummary]], list[RunSummary]] = list,
              cwd: str | os.PathLike[str] | None = None, *, poll: float = TAIL_POLL_SECONDS,
              sleep: Callable[[float], None] = time.sleep) -> Iterator[list[RunSummary]]:
    """The project's last ``count`` runs (oldest first), then, forever, the runs that
    start or whose status changes, as it happens (``select`` picks the runs to show from
    the newest-first list)."""
    runs = select(list_runs(cwd))
    seen = {run.run_id: run.status_text for run in runs}
    yield runs[:count][::-1]
    while True:
        sleep(poll)
        runs = select(list_runs(cwd))
        changed = [run for run in reversed(runs) if seen.get(run.run_id) != run.status_text]
        seen.update((run.run_id, run.status_text) for run in runs)
        if changed:
            yield changed
