"""The step-body seam: a run hands every body to its backend, with rendered inputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import load, stub_options

from ail_tui.cancel import CancelToken
from ail_tui.engine.executor import Executor
from ail_tui.engine.shell import LineSink, ShellResult
from ail_tui.engine.step_backend import LocalSteps
from ail_tui.runners.base import RunnerEventSink, RunnerRequest, RunnerResult
from ail_tui.runners.registry import RunnerFactory


class RecordingSteps(LocalSteps):
    """Runs bodies here, and notes what each was handed."""

    def __init__(self) -> None:
        super().__init__(RunnerFactory())
        self.handed: list[tuple[str, Any]] = []

    def run_prompt(self, runner: str, request: RunnerRequest, emit: RunnerEventSink,
                   cancel: CancelToken, *, reconcile: str | None = None) -> RunnerResult:
        self.handed.append(("prompt", (runner, request.step_id, request.prompt)))
        return super().run_prompt(runner, request, emit, cancel)

    def run_shell(self, command: str, *, step_id: str, cwd: str, timeout: float,
                  on_line: LineSink, cancel: CancelToken,
                  env: dict[str, str] | None = None,
                  reconcile: str | None = None) -> ShellResult:
        self.handed.append(("shell", (command, cwd, timeout)))
        return super().run_shell(command, step_id=step_id, cwd=cwd, timeout=timeout,
                                 on_line=on_line, cancel=cancel, env=env)

    def submit(self, body: Callable[[], None]) -> None:
        self.handed.append(("branch", None))
        super().submit(body)


@pytest.mark.timeout(30)
def test_every_body_goes_through_the_backend_with_its_inputs_rendered(tmp_path: Path) -> None:
    backend = RecordingSteps()
    pipeline = load(tmp_path, """
        version: "1"
        pipeline:
          - id: list
            context: {shell: "echo files"}
            timeout_seconds: 7
          - id: left
            async: true
            prompt: "left of {{ step.list.result }}"
          - id: right
            async: true
            prompt: right
          - id: both
            action: join
            depends_on: [left, right]
        """)
    result = Executor(pipeline, stub_options(tmp_path, None, {"backend": backend})).run()
    assert result.status == "completed", result.error
    assert ("shell", ("echo files", str(tmp_path), 7.0)) in backend.handed
    prompts = sorted(args for kind, args in backend.handed if kind == "prompt")
    assert prompts == [("stub", "left", "left of files\n"), ("stub", "right", "right")]
    assert [kind for kind, _ in backend.handed].count("branch") == 2
