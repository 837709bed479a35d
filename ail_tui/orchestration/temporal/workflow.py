"""The run workflow: the durable record of a run and the broker between its parts.

It starts the driver (the interpreter, an activity) and keeps what the driver publishes
(announced events and turn-log records) for the clients, which read it with the
``progress`` query. The driver asks for step bodies in the same batches; each becomes an
activity of its own, on any worker, whose output and outcome the driver reads back
through the ``exchange`` update (one long poll at a time). Controls from clients (cancel, pause, a
gate's answer) go the same way. Workflow code only: no I/O, no clock but Temporal's.

A driver whose worker dies is started again and resumes the run. The bodies the dead
driver asked for and never saw the end of are *orphans*: when the new driver asks for a
body of the same step, it is given the orphan's outcome (or waits for it) instead of a
new activity, so a step's work is never done twice because its driver died.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, CancelledError

with workflow.unsafe.imports_passed_through():
    from ail_tui.orchestration.temporal.messages import (
        BODY,
        DRIVE,
        WORKFLOW,
        BodyChunks,
        BodyOutcome,
        BodyRequest,
        Control,
        DriverNote,
        Progress,
        Published,
        Question,
        RunStart,
    )

HEARTBEAT = timedelta(seconds=5)
"""A driver or body whose worker stops heartbeating for this long is started again on
another worker."""
PAGE = 2000
"""At most this many events (and records) in one ``progress`` answer."""
BODY_ATTEMPTS = 10
"""How often a body whose worker died is tried (its own failures are not retried here:
the step's ``on_error`` decides)."""
NEVER = timedelta(days=3650)


@workflow.defn(name=WORKFLOW)
class RunWorkflow:
    """One run of a pipeline."""

    def __init__(self) -> None:
        self._events: list[str] = []
        self._records: list[list[Any]] = []
        self._notes: list[DriverNote] = []
        self._bodies: dict[str, workflow.ActivityHandle[BodyOutcome]] = {}
        self._ended: dict[str, Any] | None = None
        self._paused = False
        self._waiting: set[asyncio.Future[None]] = set()
        self._requests: dict[str, BodyRequest] = {}
        self._outcomes: dict[str, DriverNote] = {}
        self._seen: dict[str, int] = {}
        """Per driver (its tag): the last note it has asked past."""
        self._heir: dict[str, str] = {}
        """Orphan body → the request of a later driver that took it over."""
        self._answers: dict[str, dict[str, Any]] = {}
        """``REF#NUMBER`` → the decision on a body's question."""
        self._tags: set[str] = set()
        """The drivers that asked for bodies."""

    @workflow.run
    async def run(self, start: RunStart) -> dict[str, Any]:
        """Drive the run to its end; the result is the run's end as plain data.

        Cancelling the workflow (from Temporal's own tools) cancels the run as a client's
        cancel does: the driver ends it, with its last records, and the workflow
        completes with that end."""
        driver = workflow.start_activity(
            DRIVE, start, start_to_close_timeout=NEVER, heartbeat_timeout=HEARTBEAT,
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200),
                                     backoff_coefficient=1.0, maximum_attempts=0),
            result_type=dict)
        while True:
            try:
                ended: dict[str, Any] = await asyncio.shield(driver)
                break
            except asyncio.CancelledError:
                self.control(Control(action="cancel", reason="run cancelled from Temporal"))
        self._ended = ended
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ended

    @workflow.signal
    def publish(self, batch: Published) -> None:
        """The driver's events, records and requests for bodies since its last batch."""
        self._events.extend(batch.events)
        self._records.extend(batch.records)
        for request in batch.bodies:
            self._start_body(request)
        for answer in batch.answers:
            self._answers[f"{answer.ref}#{answer.number}"] = answer.decision

    def _start_body(self, request: BodyRequest) -> None:
        """Run one step body as an activity; its outcome becomes a note for the driver."""
        if request.ref in self._requests:
            return  # a signal delivered twice
        self._requests[request.ref] = request
        orphan = self._orphan(request)
        if orphan is not None:
            self._heir[orphan] = request.ref
            done = self._outcomes.get(orphan)
            if done is not None:
                self._note("outcome", request.ref, done.payload)
            return
        timeout = timedelta(seconds=request.timeout + 60) if request.timeout else NEVER
        handle = workflow.start_activity(
            BODY, request, activity_id=f"body-{request.ref}",
            start_to_close_timeout=timeout, heartbeat_timeout=HEARTBEAT,
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200),
                                     backoff_coefficient=1.0,
                                     maximum_attempts=BODY_ATTEMPTS),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            result_type=BodyOutcome)
        self._bodies[request.ref] = handle
        self._waiting.add(asyncio.ensure_future(self._outcome(request.ref, handle)))

    async def _outcome(self, ref: str, handle: workflow.ActivityHandle[BodyOutcome]) -> None:
        try:
            outcome = await handle
        except (ActivityError, CancelledError) as error:
            cancelled = isinstance(error.cause if isinstance(error, ActivityError) else error,
                                   CancelledError)
            outcome = BodyOutcome(
                error_type="ail:runner/cancelled" if cancelled else "ail:runner/lost",
                error="step body cancelled" if cancelled else f"step body lost: {error}")
        if outcome.delivered and ref not in self._heir:  # its driver has it already
            self._outcomes[ref] = DriverNote(seq=0, kind="outcome", ref=ref, payload=outcome)
        else:
            self._outcomes[ref] = self._note("outcome", self._heir.get(ref, ref), outcome)
        self._waiting = {task for task in self._waiting if not task.done()}

    def _orphan(self, request: BodyRequest) -> str | None:
        """A body of an earlier driver for the same step that no driver saw end."""
        tag = _tag(request.ref)
        self._tags.add(tag)
        if len(self._tags) == 1:  # the first driver: nobody's orphans
            return None
        for ref, earlier in self._requests.items():
            if (_tag(ref) == tag or ref in self._heir or earlier.step_id != request.step_id
                    or earlier.kind != request.kind):
                continue
            done = self._outcomes.get(ref)
            if done is None or done.seq > self._seen.get(_tag(ref), 0):
                return ref
        return None

    @workflow.signal
    def body_chunks(self, chunks: BodyChunks) -> None:
        """Output of a running body, passed on to the driver."""
        ref = chunks.workflow_ref.removeprefix("body-")
        self._note("chunks", self._heir.get(ref, ref), chunks.items)

    @workflow.signal
    def question(self, question: Question) -> None:
        """A body's tool-use permission request, passed on to the driver."""
        self._note("question", self._heir.get(question.ref, question.ref), question)

    @workflow.update
    async def answer(self, ref: str, number: int) -> dict[str, Any]:
        """The decision on question ``number`` of body ``ref``, once there is one (a
        denial when the run ends first)."""
        key = f"{ref}#{number}"
        await workflow.wait_condition(lambda: key in self._answers or self._ended is not None)
        return self._answers.get(key, {"allow": False, "reason": "The run ended"})

    @workflow.signal
    def cancel_body(self, ref: str) -> None:
        """Stop a running body (its activity is cancelled; its outcome says so)."""
        ref = next((orphan for orphan, heir in self._heir.items() if heir == ref), ref)
        handle = self._bodies.get(ref)
        if handle is not None and not handle.done():
            handle.cancel()

    @workflow.signal
    def control(self, control: Control) -> None:
        """A client's control, passed on to the driver."""
        if control.action in ("pause", "resume"):
            self._paused = control.action == "pause"
        self._note("control", "", control)

    @workflow.update
    async def exchange(self, after: int, tag: str) -> list[DriverNote]:
        """The notes after the ``after`` driver ``tag`` has seen, once there is one (or
        the run has ended)."""
        self._seen[tag] = max(after, self._seen.get(tag, 0))
        await workflow.wait_condition(
            lambda: len(self._notes) > after or self._ended is not None)
        return self._notes[after:after + PAGE]

    @workflow.query
    def progress(self, events_after: int, records_after: int) -> Progress:
        """What a client reads: events and records after the counts it has."""
        return Progress(events=self._events[events_after:events_after + PAGE],
                        records=self._records[records_after:records_after + PAGE],
                        event_count=len(self._events), record_count=len(self._records),
                        ended=self._ended, paused=self._paused)

    def _note(self, kind: str, ref: str, payload: Any) -> DriverNote:
        note = DriverNote(seq=len(self._notes) + 1, kind=kind, ref=ref, payload=payload)
        self._notes.append(note)
        return note


def _tag(ref: str) -> str:
    """The driver that asked for body ``ref`` (its refs are ``TAG-N``)."""
    return ref.rsplit("-", 1)[0]
