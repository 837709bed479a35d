"""The driver: a run's interpreter, the direct runs' own executor, as an activity.

It loads the pipeline the client sent, runs it with :class:`.RemoteSteps` as the step
backend (bodies go out as activities) and a :class:`.Publisher` in place of the turn
log's file (records and announced events go to the workflow), heartbeats while it
runs, and applies the controls clients send. It returns the run's end as plain data.

A driver started again (its worker died) resumes the run as ``ail-tui resume`` does
(decisions D1–D3) from the records the workflow kept: completed steps are not run
again, and a step that was in flight gets the outcome of the body that was running for
it, which the workflow hands over instead of starting another (no prompt is paid twice).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ail_tui.engine.continuing import FINISHED, CannotContinue, continue_run
from ail_tui.engine.local_run import LocalRun
from ail_tui.engine.run_types import RunOptions, RunResult, RunStatus
from ail_tui.orchestration.temporal.handoff import Handoff
from ail_tui.orchestration.temporal.link import WorkflowLink
from ail_tui.orchestration.temporal.messages import Control, RunStart
from ail_tui.orchestration.temporal.publisher import Publisher
from ail_tui.orchestration.temporal.remote_steps import RemoteSteps
from ail_tui.pipeline.loader import Pipeline
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.permissions import PermissionDecision
from ail_tui.runners.registry import RunnerFactory
from ail_tui.turnlog.reader import read_run

HEARTBEAT_SECONDS = 0.5


def result_data(result: RunResult) -> dict[str, Any]:
    """``result`` as plain data (its log path left out: the client has its own)."""
    data = dataclasses.asdict(result)
    data["status"] = str(result.status)
    data.pop("log_path", None)
    return data


def result_from(data: dict[str, Any], log_path: Path | None) -> RunResult:
    """The :class:`RunResult` of :func:`result_data`'s ``data``."""
    fields = dict(data)
    fields["status"] = RunStatus(fields["status"])
    return RunResult(**fields, log_path=log_path)


def _pipeline(start: RunStart, scratch: Path) -> Pipeline | str:
    """The pipeline the client sent: its file here when this host has the same one (its
    relative files resolve beside it), else the text the client sent."""
    source = Path(start.pipeline_source)
    try:
        same = source.read_text(encoding="utf-8") == start.pipeline_text
    except (OSError, UnicodeDecodeError):
        same = False
    path = source
    if not same:
        path = scratch / source.name
        path.write_text(start.pipeline_text, encoding="utf-8")
    loaded = check_file(path)
    if loaded.pipeline is None or not loaded.valid:
        problems = "; ".join(d.detail for d in loaded.errors)
        return f"the pipeline is not valid on this worker: {problems or 'unreadable'}"
    return dataclasses.replace(loaded.pipeline, source=source)


def _resumed(start: RunStart, pipeline: Pipeline, options: RunOptions,
             link: WorkflowLink, heartbeat: Callable[[], bool]) -> RunOptions | RunResult:
    """The options that resume the run from what earlier drivers published (the run's
    end when it had ended; ``options`` when nothing was recorded)."""
    assert options.log_dir is not None
    options.log_dir.mkdir(parents=True, exist_ok=True)
    for name, record in link.records(heartbeat):
        with (options.log_dir / Path(name).name).open("a", encoding="utf-8") as log:
            log.write(json.dumps(record, ensure_ascii=False) + "\n")
    path = options.log_dir / f"{start.run_id}.jsonl"
    if not path.exists():
        return options
    earlier = read_run(path, times=False)
    if earlier.has_run_finished and earlier.status in FINISHED:
        return RunResult(run_id=start.run_id, status=RunStatus(earlier.status))
    try:
        resumed = continue_run(earlier, options, resume=True, pipeline=pipeline).options
    except CannotContinue as error:
        return RunResult(run_id=start.run_id, status=RunStatus.FAILED,
                         error_type="ail:runner/lost", error=str(error))
    if resumed.prior is not None:  # the body in flight is handed over, or recovers itself
        resumed.prior = dataclasses.replace(resumed.prior, reconcile_in_flight=False)
    return resumed


def drive(start: RunStart, link: WorkflowLink, heartbeat: Callable[[], bool],
          run_tag: str, again: bool = False, handoff: Handoff | None = None
          ) -> dict[str, Any]:
    """Run ``start`` to its end (``again``: resume it, an earlier driver died);
    ``heartbeat`` is called while it runs and says whether the activity was cancelled
    (the run is then cancelled). Bodies that run in this process find the driver in
    ``handoff``."""
    publisher = Publisher(lambda batch: link.signal("publish", batch))
    runners = RunnerFactory()
    steps = RemoteSteps(link, run_tag, publisher.body, publisher.answer,
                        stub_response=start.stub_response, stub_script=start.stub_script,
                        conversations=runners.conversations, handoff=handoff)
    with tempfile.TemporaryDirectory(prefix="ail-driver-") as scratch:
        pipeline = _pipeline(start, Path(scratch))
        if isinstance(pipeline, str):
            publisher.close()
            return result_data(RunResult(run_id=start.run_id, status=RunStatus.FAILED,
                                         error_type="ail:config/validation-failed",
                                         error=pipeline))
        cwd = start.cwd if os.path.isdir(start.cwd) else os.getcwd()
        options = RunOptions(prompt=start.prompt, runner=start.runner, model=start.model,
                             runners=runners, interactive=start.interactive,
                             cwd=cwd, run_id=start.run_id, backend=steps,
                             log_dir=Path(scratch) / "runs", records=publisher.writer)
        if again:
            resumed = _resumed(start, pipeline, options, link, heartbeat)
            if isinstance(resumed, RunResult):
                publisher.close()
                return result_data(resumed)
            options = resumed
        run = LocalRun(pipeline, options)
        run.subscribe(publisher.event)
        steps.on_control = lambda control: _apply(run, control)
        reader = threading.Thread(target=steps.follow, name="ail-driver-notes", daemon=True)
        reader.start()
        run.start()
        result = _until_end(run, heartbeat)
        steps.stop()
        publisher.close()
    return result_data(result)


def _until_end(run: LocalRun, heartbeat: Callable[[], bool]) -> RunResult:
    """Wait for the run's end, heartbeating; a cancelled activity cancels the run (the
    SDK may raise its cancellation anywhere in this thread: the run still ends)."""
    try:
        result = run.wait(HEARTBEAT_SECONDS)
        while result is None:
            if heartbeat():
                run.cancel("run cancelled by user", by="user")
            result = run.wait(HEARTBEAT_SECONDS)
        return result
    except BaseException:
        run.cancel("run cancelled by user", by="user")
        ended = run.wait()
        assert ended is not None
        return ended


def _apply(run: LocalRun, control: Control) -> None:
    """Do what a client asked."""
    if control.action == "cancel":
        run.cancel(control.reason or "run cancelled by user", by=control.by)
    elif control.action == "cancel_step":
        run.cancel_step(control.step_id, control.reason or "cancelled by user")
    elif control.action == "pause":
        run.pause()
    elif control.action == "resume":
        run.resume()
    elif control.action == "gate":
        run.answer_gate(control.step_id, control.approved, control.text)
    elif control.action == "permission":
        run.answer_permission(control.request_id, PermissionDecision(
            allow=control.approved, for_step=control.for_step, reason=control.reason))

