"""The runs of a Rust log's sub-pipeline steps: each is a run file of its own.

Rust writes a sub-pipeline step's ``step_started`` (its path template), runs the child
as a new session (a new run file beside the parent's, ``run_started.pipeline_source`` the
path it loaded, e.g. ``/p/./child.yaml``), and writes the parent's entry only when the
child succeeded; a failure writes nothing (brief §7, §9). So a step left open at the end
of a finished log, whose child run exists, failed in its child rather than being cut off.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FIRST_LINE_BYTES = 64 * 1024
"""How much of a candidate run file is read: its ``run_started`` line."""


def _pipeline_source(path: Path) -> str | None:
    """The ``pipeline_source`` of the run file at ``path`` (None: none, or unreadable)."""
    try:
        with path.open("rb") as log:
            line = log.readline(FIRST_LINE_BYTES)
        record = json.loads(line.decode("utf-8", "replace"))
    except (OSError, ValueError):
        return None
    source = record.get("pipeline_source") if isinstance(record, dict) else None
    return source if isinstance(source, str) else None


def _names_pipeline(prompt: str) -> bool:
    return "\n" not in prompt and "{{" not in prompt and prompt.endswith((".yaml", ".yml"))


def _same_file(source: str, wanted: str, relative: bool) -> bool:
    source = os.path.normpath(source)
    return source == wanted or (relative and source.endswith(os.sep + wanted))


def child_run(log: Path, pipeline_source: str | None, prompt: str | None) -> str | None:
    """The id of the run a sub-pipeline step of the run in ``log`` started, if its file is
    there: the earliest run of that pipeline file written since the parent's last record.

    ``prompt`` is the step's ``step_started`` prompt (its path); ``./`` and ``../`` paths
    are the parent pipeline's neighbours, others are matched by their ending (Rust reads
    them from its working directory, which the log does not record).
    """
    if prompt is None or not _names_pipeline(prompt):
        return None
    local = prompt.startswith(("./", "../"))
    if local and pipeline_source is not None:
        wanted = os.path.normpath(os.path.join(os.path.dirname(pipeline_source), prompt))
    elif os.path.isabs(prompt):
        wanted = os.path.normpath(prompt)
    else:
        wanted = os.path.normpath(prompt)
    relative = not os.path.isabs(wanted)
    try:
        since = log.stat().st_mtime
        candidates = [(p.stat().st_mtime, p) for p in log.parent.glob("*.jsonl")
                      if p != log and p.is_file()]
    except OSError:
        return None
    for mtime, path in sorted(candidates):
        if mtime < since:
            continue
        source = _pipeline_source(path)
        if source is not None and _same_file(source, wanted, relative):
            return path.stem
    return None
