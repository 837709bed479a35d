"""A run on Temporal as this process sees it: a :class:`~ail_tui.engine.run_handle.RunHandle`.

:class:`TemporalRun` starts the run's workflow (or finds one already running), reads
its progress with the workflow's ``progress`` query, hands the events to its
subscribers and writes the turn-log records into this machine's ``runs`` folder (and
``ail.db``), so the log is where the client is whichever workers ran the steps.
Controls are signals. The Temporal client lives on an event loop of its own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError

from ail_tui.engine import events as ev
from ail_tui.engine.event_codec import BadEvent, decode_event
from ail_tui.engine.event_stream import EventStream
from ail_tui.engine.run_types import EventSink, RunResult, RunStatus
from ail_tui.orchestration.backends import RunNotStarted
from ail_tui.orchestration.run_progress import RunProgress
from ail_tui.orchestration.temporal.converter import connect
from ail_tui.orchestration.temporal.driver import result_from
from ail_tui.orchestration.temporal.messages import WORKFLOW, Control, Progress, RunStart
from ail_tui.orchestration.temporal_target import TemporalTarget, unreachable, workflow_id
from ail_tui.runners.permissions import PermissionDecision
from ail_tui.turnlog.run_log import RunLog

T = TypeVar("T")
CONNECT_SECONDS = 5.0
IDLE_SECONDS = 0.05
"""How long the reader waits before asking again when nothing was new."""
CHECK_SECONDS = 2.0
"""How often a reader that sees no end asks whether the workflow is still running."""


class TemporalUnavailable(RunNotStarted):
    """The Temporal service could not be reached, or refused the run."""


class TemporalRun:
    """A run on Temporal: start it (:meth:`start`) or follow one (:meth:`follow`)."""

    def __init__(self, target: TemporalTarget, run_id: str, runs: Path | None) -> None:
        """``runs``: the folder this machine keeps turn logs in (None: no log here)."""
        self.target = target
        self._run_id = run_id
        self._runs = runs
        self.events = EventStream()
        self._progress = RunProgress()
        self.events.subscribe(self._progress)
        self._logs: dict[str, RunLog] = {}
        self._result: RunResult | None = None
        self._done = threading.Event()
        self._paused = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name=f"ail-temporal-{run_id[:8]}")
        self._thread.start()
        self._handle: WorkflowHandle[Any, Any] | None = None
        self._reader: asyncio.Future[None] | None = None
        self._continuing = False
        self._written: dict[str, int] = {}
        """Per log: how many of its records are in its file already (not written again)."""

    @property
    def run_id(self) -> str:
        """The run's id (its turn log's name)."""
        return self._run_id

    @property
    def log_path(self) -> Path | None:
        """Where this machine writes the run's turn log."""
        return self._runs / f"{self._run_id}.jsonl" if self._runs is not None else None

    def _call(self, call: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(call, self._loop).result(timeout)

    async def _client(self) -> Client:
        try:
            return await asyncio.wait_for(
connect(self.target), CONNECT_SECONDS)
        except (TimeoutError, RuntimeError, RPCError) as error:
            raise TemporalUnavailable(unreachable(self.target, error)) from None

    def start(self, start: RunStart) -> TemporalRun:
        """Start the run's workflow, then follow it; raise :class:`TemporalUnavailable`."""
        async def begin() -> None:
            client = await self._client()
            try:
                self._handle = await client.start_workflow(
                    WORKFLOW, start, id=workflow_id(self._run_id),
                    task_queue=self.target.task_queue,
                    memo={"pipeline_source": start.pipeline_source, "cwd": start.cwd})
            except RPCError as error:
                raise TemporalUnavailable(f"Temporal refused the run: {error}") from None
            self._reader = asyncio.ensure_future(self._read())

        self._call(begin())
        return self

    def follow(self) -> TemporalRun:
        """Follow a run that was started elsewhere (its log here goes on from its last
        whole record); raise :class:`TemporalUnavailable`."""
        self._continuing = True

        async def begin() -> None:
            client = await self._client()
            self._handle = client.get_workflow_handle(workflow_id(self._run_id))
            self._reader = asyncio.ensure_future(self._read())

        self._call(begin())
        return self

    async def _read(self) -> None:
        assert self._handle is not None
        events = records = 0
        checked = self._loop.time()
        while True:
            try:
                progress: Progress = await self._handle.query(
                    "progress", args=[events, records], result_type=Progress)
            except RPCError as error:
                if await self._gone(str(error)):
                    return
                await asyncio.sleep(IDLE_SECONDS * 4)
                continue
            self._take(progress)
            events += len(progress.events)
            records += len(progress.records)
            self._paused = progress.paused
            caught_up = events >= progress.event_count and records >= progress.record_count
            if progress.ended is not None and caught_up:
                self._end(result_from(progress.ended, self.log_path))
                return
            if caught_up:
                if self._loop.time() - checked > CHECK_SECONDS:
                    checked = self._loop.time()
                    if await self._gone(None):
                        return
                await asyncio.sleep(IDLE_SECONDS)

    def _take(self, progress: Progress) -> None:
        for line in progress.events:
            try:
                event = decode_event(line)
            except BadEvent:
                continue
            if isinstance(event, ev.RunStarted) and event.run_id == self._run_id:
                event = replace(event, log_path=str(self.log_path) if self.log_path else None)
            self.events.emit(event)
        if self._runs is None:
            return
        for index, (name, record) in enumerate(progress.records):
            if self._continuing and name not in self._written:
                self._written[name] = _whole_records(self._runs / name)
            if self._written.get(name, 0) > 0:
                self._written[name] -= 1
                continue
            log = self._logs.get(name)
            if log is None:
                log = self._logs[name] = RunLog(self._runs / name)
            log.append(record, defer=index < len(progress.records) - 1)
        for log in self._logs.values():
            log.flush()

    async def _gone(self, why: str | None) -> bool:
        """End the run here when its workflow is no longer running without an end."""
        assert self._handle is not None
        try:
            described = await self._handle.describe()
        except RPCError as error:
            why = why or str(error)
            status = None
        else:
            status = described.status
            if status == WorkflowExecutionStatus.RUNNING or (
                    status == WorkflowExecutionStatus.COMPLETED and why is None):
                return False
        self._end(RunResult(run_id=self._run_id, status=RunStatus.FAILED,
                            error_type="ail:runner/lost",
                            error=f"the run's workflow ended without finishing the run "
                                  f"({status.name.lower() if status else why})",
                            log_path=self.log_path))
        return True

    def _end(self, result: RunResult) -> None:
        for log in self._logs.values():
            log.close()
        self._result = result
        self._done.set()

    def subscribe(self, sink: EventSink) -> Callable[[], None]:
        """Hand ``sink`` every event from the run's first, then each new one."""
        return self.events.subscribe(sink)

    def _control(self, control: Control) -> None:
        if self._handle is None or self._done.is_set():
            return
        with contextlib.suppress(RPCError, TimeoutError):
            self._call(self._handle.signal("control", control), CONNECT_SECONDS)

    def cancel(self, reason: str = "run cancelled by user", by: str = "user") -> None:
        """Cancel the run: running steps are stopped, queued ones never start."""
        self._control(Control("cancel", reason=reason, by=by))

    def cancel_step(self, step_id: str, reason: str = "cancelled by user") -> bool:
        """Ask the run to cancel one step (True: asked)."""
        self._control(Control("cancel_step", step_id=step_id, reason=reason))
        return True

    def pause(self) -> None:
        """Start no new step until :meth:`resume`."""
        self._paused = True
        self._control(Control("pause"))

    def resume(self) -> None:
        """Go on after :meth:`pause`."""
        self._paused = False
        self._control(Control("resume"))

    @property
    def paused(self) -> bool:
        """Whether the run is paused."""
        return self._paused

    def answer_gate(self, step_id: str, approved: bool = True, text: str | None = None) -> bool:
        """Answer a waiting human gate; False when none waits at ``step_id``."""
        if step_id not in self._progress.snapshot()["gates"]:
            return False
        self._control(Control("gate", step_id=step_id, approved=approved, text=text))
        return True

    def answer_permission(self, request_id: str, decision: PermissionDecision) -> bool:
        """Decide a waiting tool-use permission request; False when none has that id."""
        if not self._progress.asks(request_id):
            return False
        self._control(Control("permission", request_id=request_id, approved=decision.allow,
                              for_step=decision.for_step, reason=decision.reason))
        return True

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """How the run ended, waiting at most ``timeout`` seconds (None: still running)."""
        if not self._done.wait(timeout):
            return None
        return self._result

    def close(self) -> None:
        """Stop this process's part (the run goes on)."""
        self._loop.call_soon_threadsafe(self._loop.stop)


def _whole_records(path: Path) -> int:
    """How many whole lines ``path`` holds (a torn last one is cut when it is next
    written)."""
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0
