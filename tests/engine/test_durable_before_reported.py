"""A step is reported only once its records are written, and a sequential step costs one sync.

Each event that announces a step (``step_started``, ``step_completed``, ``step_cancelled``)
is checked, at the moment a front end receives it, against the turn log as it is then on
disk: the record it reports must already be there. The records of a sequential step share
one ``fdatasync`` with the next step's start (group commit), made before that step's body
begins.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import load, stub_options

import ail_tui.turnlog.writer as writer_module
from ail_tui.engine import events as ev
from ail_tui.engine.executor import Executor

PIPELINE = """
    version: "1"
    pipeline:
      - id: first
        prompt: one
      - id: shell
        context: {shell: "echo hi"}
      - id: gate
        action: pause_for_human
      - id: fan_a
        async: true
        prompt: a
      - id: fan_b
        async: true
        prompt: b
      - id: joined
        action: join
        depends_on: [fan_a, fan_b]
      - id: loop
        do_while:
          max_iterations: 2
          exit_when: "{{ step.inner.response }} contains stub"
          steps:
            - id: inner
              prompt: again
      - id: last
        prompt: done
    """


class LogWatcher:
    """On each announcing event, what the turn log holds for that step right then."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.missing: list[str] = []
        self.checked = 0

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self.path = Path(event.log_path) if event.log_path else None
            return
        wanted = self._record_kind(event)
        if wanted is None or self.path is None:
            return
        self.checked += 1
        step_id = getattr(event, "step_id", "")
        if not any(r.get("step_id") == step_id and r.get("type") == wanted
                   for r in self._records()):
            self.missing.append(f"{event.type} {step_id}: no {wanted or 'entry'} record yet")

    @staticmethod
    def _record_kind(event: ev.Event) -> str | None:
        if isinstance(event, ev.StepStarted) and event.step_id != "joined":
            return "step_started"  # a join has no step_started record (nor in Rust)
        if isinstance(event, ev.StepCancelled):
            return "step_cancelled"
        if isinstance(event, ev.StepCompleted) and event.step_id != "gate":
            return ""  # a turn entry: the record without a type (a passed gate has none)
        return None

    def _records(self) -> list[dict[str, Any]]:
        assert self.path is not None
        text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        records = [json.loads(line) for line in text.splitlines() if line]
        return [dict(r, type=r.get("type", "")) for r in records]


@pytest.mark.timeout(60)
def test_every_step_is_on_disk_before_it_is_reported(tmp_path: Path) -> None:
    watcher = LogWatcher()
    executor = Executor(load(tmp_path, PIPELINE),
                        stub_options(tmp_path, None, {"sync_log": True}), watcher)
    result = executor.run()
    assert result.status == "completed", result.error
    assert watcher.checked >= 14
    assert watcher.missing == []


@pytest.mark.timeout(60)
def test_sequential_steps_share_one_sync_each(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    steps = 40
    text = 'version: "1"\npipeline:\n' + "".join(
        f"  - id: s{i}\n    prompt: step {i}\n" for i in range(steps))
    syncs: list[int] = []
    real = os.fdatasync

    def counted(fd: int) -> None:
        syncs.append(fd)
        real(fd)

    monkeypatch.setattr(writer_module.os, "fdatasync", counted)
    executor = Executor(load(tmp_path, text), stub_options(tmp_path, None, {"sync_log": True}))
    result = executor.run()
    assert result.status == "completed"
    records = (result.log_path or Path()).read_text(encoding="utf-8").splitlines()
    # run_started, the step definitions, run_finished, and 2 per step
    assert len(records) == 3 + 2 * steps
    # run_started, then one per step (its start with the entry before it), run_finished;
    # the step definitions go along with one of them.
    assert len(syncs) == steps + 2
