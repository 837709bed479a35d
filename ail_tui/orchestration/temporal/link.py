"""Calls on a run's workflow from plain threads (the driver's, a body's), made on the
worker's event loop, where the Temporal client lives."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from temporalio.client import Client

from ail_tui.orchestration.temporal.messages import DriverNote, Progress

T = TypeVar("T")
CALL_SECONDS = 60.0
"""How long a signal may take to be accepted before the caller gives up."""
QUERY_BEAT_SECONDS = 0.5
"""How often a waiting query lets its caller heartbeat."""
ANSWER_POLL_SECONDS = 0.2
"""How soon a body waiting for a person's decision notices its cancellation."""


class WorkflowLink:
    """The workflow ``workflow_id`` as seen from a thread of the worker."""

    def __init__(self, client: Client, loop: asyncio.AbstractEventLoop,
                 workflow_id: str) -> None:
        self._loop = loop
        self._handle = client.get_workflow_handle(workflow_id)
        self.workflow_id = workflow_id

    def _call(self, call: Coroutine[Any, Any, T], timeout: float | None) -> T:
        return asyncio.run_coroutine_threadsafe(call, self._loop).result(timeout)

    def signal(self, name: str, arg: Any) -> None:
        """Send signal ``name`` and wait until the server has it."""
        self._call(self._handle.signal(name, arg), CALL_SECONDS)

    def answer(self, ref: str, number: int, cancelled: Callable[[], bool]
               ) -> dict[str, Any] | None:
        """The decision on body ``ref``'s question ``number``, once a person made it
        (None: ``cancelled`` became true first)."""
        asked = asyncio.run_coroutine_threadsafe(self._handle.execute_update(
            "answer", args=[ref, number], result_type=dict), self._loop)
        while True:
            try:
                decision: dict[str, Any] = asked.result(ANSWER_POLL_SECONDS)
                return decision
            except concurrent.futures.TimeoutError:
                if cancelled():
                    asked.cancel()
                    return None

    def exchange(self, after: int, tag: str) -> list[DriverNote]:
        """Driver ``tag``'s notes after ``after`` (waits until there is one, or a
        while)."""
        return self._call(self._handle.execute_update("exchange", args=[after, tag],
                                                      result_type=list[DriverNote]), None)

    def records(self, heartbeat: Callable[[], object]) -> list[list[Any]]:
        """Every turn-log record the workflow holds, as ``[log name, record]``
        (``heartbeat`` is called while a query waits: a worker that died may hold the
        workflow for a few seconds)."""
        records: list[list[Any]] = []
        while True:
            asked = asyncio.run_coroutine_threadsafe(self._handle.query(
                "progress", args=[1 << 62, len(records)], result_type=Progress), self._loop)
            while True:
                try:
                    progress: Progress = asked.result(QUERY_BEAT_SECONDS)
                    break
                except concurrent.futures.TimeoutError:
                    heartbeat()
            records += progress.records
            if not progress.records or len(records) >= progress.record_count:
                return records
