"""What Temporal itself costs on this machine: a DAG of plain activities that only sleep,
scheduled by a minimal workflow, on one worker in this process.

It is bench_backends' yardstick for the Temporal backend: the same shape and delays with
no interpreter, no events and no turn log, so the gap between the two is ail-tui's. With
``local``, the activities are local ones (run by the workflow's own worker, no task queue
between): the least any design that makes each step a Temporal activity can cost.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from threading import Thread

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

QUEUE = "bench-floor"
TIMEOUT = timedelta(seconds=60)


@activity.defn(name="bench-sleep")
def sleep_for(seconds: float) -> float:
    """Sleep ``seconds``; the wall clock at the end."""
    time.sleep(seconds)
    return time.time()


@workflow.defn(name="bench-floor")
class FloorWorkflow:
    """Each step an activity, started once the steps it depends on have ended."""

    @workflow.run
    async def run(self, deps: list[list[int]], delays: list[float], local: bool) -> float:
        """The makespan: from the workflow's first task to the last activity's end."""
        began = workflow.now().timestamp()
        ends: list[asyncio.Task[float]] = []
        execute = workflow.execute_local_activity if local else workflow.execute_activity

        async def step(index: int) -> float:
            await asyncio.gather(*(ends[d] for d in deps[index]))
            ended: float = await execute(sleep_for, delays[index],
                                         start_to_close_timeout=TIMEOUT)
            return ended

        for index in range(len(deps)):
            ends.append(asyncio.ensure_future(step(index)))
        return max(await asyncio.gather(*ends)) - began


class Floor:
    """Runs DAGs as plain activities on a worker of this process."""

    def __init__(self, address: str) -> None:
        self._address = address
        self._loop = asyncio.new_event_loop()
        self._thread = Thread(target=self._loop.run_forever, name="bench-floor", daemon=True)
        self._stop = asyncio.Event()
        self._client: Client | None = None

    def makespan(self, deps: list[list[int]], delays: list[float], local: bool = False
                 ) -> float:
        """One run of the DAG (``local``: as local activities); its makespan in seconds."""
        assert self._client is not None
        run = self._client.execute_workflow(FloorWorkflow.run, args=[deps, delays, local],
                                            id=f"floor-{uuid.uuid4()}", task_queue=QUEUE)
        return asyncio.run_coroutine_threadsafe(run, self._loop).result(120)

    async def _serve(self, ready: asyncio.Future[None]) -> None:
        self._client = await Client.connect(self._address)
        with ThreadPoolExecutor(max_workers=256) as pool:
            worker = Worker(self._client, task_queue=QUEUE, workflows=[FloorWorkflow],
                            activities=[sleep_for], activity_executor=pool,
                            max_concurrent_activities=256,
                            workflow_runner=UnsandboxedWorkflowRunner())
            async with worker:
                ready.set_result(None)
                await self._stop.wait()

    @contextmanager
    def serving(self) -> Iterator[Floor]:
        """The worker polls while the block runs."""
        self._thread.start()
        ready: asyncio.Future[None] = self._loop.create_future()
        served = asyncio.run_coroutine_threadsafe(self._serve(ready), self._loop)
        asyncio.run_coroutine_threadsafe(asyncio.wait_for(asyncio.shield(ready), 60),
                                         self._loop).result(70)
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(self._stop.set)
            served.result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
