"""A run that did not complete never reports success: errors, bugs and a lost turn log."""

from __future__ import annotations

import errno
import json
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ail_tui.engine import events as ev
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import Runner, RunnerEventSink, RunnerRequest, RunnerResult
from ail_tui.runners.registry import RunnerFactory
from ail_tui.turnlog import writer as writer_module
from ail_tui.turnlog.writer import TurnLogWriter

ROOT = Path(__file__).resolve().parents[2]

ON_RESULT_CHILD = """
    version: "1"
    pipeline:
      - id: first
        prompt: "hello"
        on_result:
          - always: true
            action: "pipeline: ./child.ail.yaml"
            prompt: "{{ step.invocation.prompt }}"
      - id: second
        prompt: "after"
    """


def test_a_step_error_in_a_sequential_on_result_action_fails_the_run(
        run_pipeline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "child.ail.yaml").write_text(
        'version: "1"\npipeline:\n  - id: inner\n    prompt: "x"\n')
    run = run_pipeline(ON_RESULT_CHILD)
    assert run.result.status == "failed"
    assert run.result.error_type == ErrorType.UNRESOLVED_VARIABLE
    assert "No invocation prompt was given" in (run.result.error or "")
    assert isinstance(run.events[-1], ev.PipelineError)
    assert [e.step_id for e in run.of(ev.StepFailed)] == ["first"]
    assert "second" not in run.entries()
    assert run.typed("run_finished")[-1]["status"] == "failed"


@dataclass
class _Exploding:
    """A runner with a bug: it raises something no runner should."""

    name: str = "stub"

    def invoke(self, request: RunnerRequest, emit: RunnerEventSink,
               cancel: object) -> RunnerResult:
        raise MemoryError("out of memory reading the prompt")


def _exploding(factory: RunnerFactory, name: str) -> Runner:
    return _Exploding()  # type: ignore[return-value]


@pytest.mark.parametrize("async_", [False, True])
def test_an_unexpected_exception_fails_the_run(run_pipeline, monkeypatch,  # type: ignore[no-untyped-def]
                                               async_: bool) -> None:
    monkeypatch.setattr(RunnerFactory, "create", _exploding)
    head = "async: true\n            " if async_ else ""
    run = run_pipeline(f"""
        version: "1"
        pipeline:
          - id: boom
            {head}prompt: "x"
          - id: after
            depends_on: [boom]
            action: join
        """ if async_ else """
        version: "1"
        pipeline:
          - id: boom
            prompt: "x"
          - id: after
            prompt: "y"
        """)
    # A branch's bug fails the branch; its join then aborts the run.
    assert run.result.status == ("aborted" if async_ else "failed"), run.result
    assert run.result.error_type == (
        ErrorType.PIPELINE_ABORTED if async_ else ErrorType.INTERNAL_ERROR)
    assert "MemoryError: out of memory reading the prompt" in (run.result.error or "")
    assert "after" not in run.entries()
    assert run.typed("run_finished")[-1]["status"] == run.result.status


def test_a_write_cut_short_leaves_no_half_record(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.jsonl"
    writer = TurnLogWriter(path)
    writer.write({"type": "run_started", "n": 0})
    real_write = writer_module.os.write
    calls = {"n": 0}

    def full_disk_once(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(writer_module.os, "write", full_disk_once)
    writer.write({"type": "step_started", "n": 1, "text": "x" * 100})
    assert writer.failed == f"{path}: No space left on device"
    writer.write({"type": "run_finished", "n": 2})  # the disk has room again
    writer.close()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["n"] for r in records] == [0, 2]


def _limited_file_size(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.timeout(60)
def test_a_turn_log_that_cannot_be_written_fails_the_run(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.ail.yaml"
    steps = "".join(f"  - id: s{i}\n    context: {{shell: 'echo {i}'}}\n" for i in range(12))
    pipeline.write_text(f'version: "1"\npipeline:\n{steps}')
    # No bytecode is written: the size limit would leave truncated .pyc files behind.
    env = {"AIL_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "ail_tui", "run", str(pipeline), "--headless"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=30, check=False,
        preexec_fn=lambda: _limited_file_size(1500))
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    last = json.loads(done.stdout.splitlines()[-1])
    [log] = list((tmp_path / "home").rglob("*.jsonl"))
    assert last["type"] == "pipeline_error"
    assert last["error_type"] == "ail:storage/write-failed"
    assert str(log) in last["error"] and "File too large" in last["error"]
    lines = log.read_text().splitlines()
    assert all(json.loads(line) for line in lines)  # whole records only
    listed = subprocess.run(
        [sys.executable, "-m", "ail_tui", "logs", "--format", "json"], capture_output=True,
        text=True, env=env, cwd=tmp_path, timeout=30, check=True)
    assert json.loads(listed.stdout)[0]["status"] != "completed"
