"""Helpers to run a pipeline in-process and look at its events and turn log."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from event_recorder import Recorder

from ail_tui.engine import events as ev
from ail_tui.engine.executor import Executor
from ail_tui.engine.local_run import LocalRun
from ail_tui.engine.run_types import RunOptions, RunResult
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.registry import RunnerFactory
from ail_tui.runners.stub import StubScript


@dataclass
class Run:
    """A finished run: its result, events, and turn-log records."""

    result: RunResult
    events: list[ev.Event]
    records: list[dict[str, Any]] = field(default_factory=list)

    def of(self, kind: type[ev.Event]) -> list[Any]:
        """Events of one type, in order."""
        return [e for e in self.events if isinstance(e, kind)]

    def entries(self) -> dict[str, dict[str, Any]]:
        """TurnEntry records by step id (the last one wins)."""
        return {r["step_id"]: r for r in self.records if "type" not in r}

    def typed(self, kind: str) -> list[dict[str, Any]]:
        """Records with ``type == kind``."""
        return [r for r in self.records if r.get("type") == kind]


def load(tmp_path: Path, text: str, name: str = "p.ail.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    result = check_file(path)
    assert result.valid, [e.display() for e in result.errors]
    assert result.pipeline is not None
    return result.pipeline


def stub_options(tmp_path: Path, script: dict | None, options: dict[str, Any]) -> RunOptions:
    """Stub runs (with ``script``), unsynced logs under ``tmp_path/runs``, and ``options``."""
    runners = RunnerFactory(stub_script=StubScript.model_validate(script) if script else None)
    settings: dict[str, Any] = {"runner": "stub", "runners": runners, "sync_log": False,
                                "log_dir": tmp_path / "runs", "cwd": str(tmp_path)}
    return RunOptions(**{**settings, **options})


def make_executor(tmp_path: Path, text: str, *, script: dict | None = None,
                  sink: Callable[[ev.Event], None] | None = None, **options: Any) -> Executor:
    return Executor(load(tmp_path, text), stub_options(tmp_path, script, options), sink)


def start_run(tmp_path: Path, text: str, *, script: dict | None = None,
              **options: Any) -> tuple[LocalRun, Recorder]:
    """Start a stub run of ``text`` on its own thread; its events go to the recorder."""
    run = LocalRun(load(tmp_path, text), stub_options(tmp_path, script, options))
    recorder = Recorder()
    run.subscribe(recorder)
    return run.start(), recorder


def read_records(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
