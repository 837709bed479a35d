"""``ail-tui worker``: a process that runs drivers and step bodies for any run on its
task queue, on any machine that reaches the Temporal service."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from ail_tui.cancel import CancelToken
from ail_tui.orchestration.temporal.bodies import run_body
from ail_tui.orchestration.temporal.converter import connect
from ail_tui.orchestration.temporal.driver import drive
from ail_tui.orchestration.temporal.handoff import Handoff
from ail_tui.orchestration.temporal.link import WorkflowLink
from ail_tui.orchestration.temporal.messages import (
    BODY,
    DRIVE,
    BodyOutcome,
    BodyRequest,
    Question,
    RunStart,
)
from ail_tui.orchestration.temporal.workflow import RunWorkflow
from ail_tui.orchestration.temporal_target import TemporalTarget, run_id_of

MAX_ACTIVITIES = 256
"""Drivers and bodies one worker runs at once (threads: most of them wait)."""
HEARTBEAT_THROTTLE = timedelta(milliseconds=200)
STICKY = timedelta(seconds=2)
"""How long a run's workflow tasks wait for the worker that has it cached before any
worker takes them: a dead worker holds up its runs (and their queries) no longer."""
"""How often heartbeats reach the server at most: a cancellation is learnt this fast."""


def _beat() -> bool:
    activity.heartbeat()
    return activity.is_cancelled()


def _ask(link: WorkflowLink, question: Question, token: CancelToken) -> dict[str, Any] | None:
    """Send a body's question to its run and wait for the decision."""
    link.signal("question", question)
    return link.answer(question.ref, question.number, lambda: token.cancelled)


class Activities:
    """The activities, with the client and event loop their threads call through."""

    def __init__(self, client: Client, loop: asyncio.AbstractEventLoop,
                 handoff: Handoff) -> None:
        self._client = client
        self._loop = loop
        self._handoff = handoff

    def _link(self) -> WorkflowLink:
        return WorkflowLink(self._client, self._loop, activity.info().workflow_id or "")

    @activity.defn(name=DRIVE)
    def drive_run(self, start: RunStart) -> dict[str, Any]:
        """Run a run's interpreter to the run's end."""
        attempt = activity.info().attempt
        return drive(start, self._link(), _beat, run_tag=f"a{attempt}", again=attempt > 1,
                     handoff=self._handoff)

    @activity.defn(name=BODY)
    def step_body(self, request: BodyRequest) -> BodyOutcome:
        """Run one step body."""
        link, info = self._link(), activity.info()
        return run_body(request, info.activity_id,
                        lambda chunks: link.signal("body_chunks", chunks), _beat,
                        run_id=run_id_of(info.workflow_id or ""),
                        attempt=info.attempt,
                        local=self._handoff.claim(info.workflow_id or "", request.ref),
                        ask=lambda question, token: _ask(link, question, token))


async def serve(target: TemporalTarget, stop: asyncio.Event | None = None,
                client: Client | None = None, handoff: Handoff | None = None) -> None:
    """Poll ``target``'s task queue until ``stop`` is set (or forever); ``handoff``
    joins this process's drivers and bodies (a new one by default)."""
    client = client or await connect(target)
    activities = Activities(client, asyncio.get_running_loop(), handoff or Handoff())
    with ThreadPoolExecutor(max_workers=MAX_ACTIVITIES,
                            thread_name_prefix="ail-activity") as pool:
        worker = Worker(client, task_queue=target.task_queue, workflows=[RunWorkflow],
                        activities=[activities.drive_run, activities.step_body],
                        activity_executor=pool, max_concurrent_activities=MAX_ACTIVITIES,
                        workflow_runner=UnsandboxedWorkflowRunner(),
                        sticky_queue_schedule_to_start_timeout=STICKY,
                        max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
                        default_heartbeat_throttle_interval=HEARTBEAT_THROTTLE)
        async with worker:
            await (stop.wait() if stop is not None else asyncio.Event().wait())
