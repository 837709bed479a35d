"""One step body on a worker: a prompt sent to a runner made here, or a shell command run
as a guarded child process, with the same code as a direct run's
(:class:`~ail_tui.engine.step_backend.LocalSteps`).

Output is sent to the workflow in batches (``body_chunks``) while the body runs, or,
when the driver waiting for the body is in this process, handed to it directly with the
outcome (:mod:`.handoff`). The
activity heartbeats; a cancellation it learns of that way cancels the body's token, which
kills its process group. A body's own failure is its outcome, not an activity failure:
only a worker's death makes Temporal run the body again. That attempt recovers what it
can as a resumed run does (decisions D3): a step that declares ``reconcile`` runs that
command instead (exit 0: its stdout is the result; else the step fails with
``ail:runner/reconcile-failed``); any other step runs again.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import lru_cache
from typing import Any

from ail_tui.cancel import Cancellation, CancelToken
from ail_tui.engine.shell import ShellResult
from ail_tui.engine.step_backend import LocalSteps
from ail_tui.orchestration.temporal.handoff import Waiter
from ail_tui.orchestration.temporal.messages import (
    BodyChunks,
    BodyOutcome,
    BodyRequest,
    Question,
)
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import RunnerError, RunnerRequest, RunnerResult, ToolPolicyOptions
from ail_tui.runners.permissions import PermissionAsker, PermissionDecision, PermissionRequest
from ail_tui.runners.registry import RunnerFactory
from ail_tui.runners.stub import DEFAULT_RESPONSE, StubScript

RECONCILE_SECONDS = 120.0
"""How long a ``reconcile`` command may run when its step sets no timeout."""
CHUNK_SECONDS = 0.15
"""How often a running body's output is sent."""
HEARTBEAT_SECONDS = 0.2
"""How often a running body heartbeats (and so learns of its cancellation)."""

Ask = Callable[[Question, CancelToken], "dict[str, Any] | None"]
"""Sends a body's question to its driver's run and waits for the decision (None: the
body was cancelled first)."""


def runner_request(data: dict[str, Any]) -> RunnerRequest:
    """The :class:`RunnerRequest` that :func:`~.remote_steps.request_data` made plain."""
    fields = dict(data)
    tools = fields.get("tools") or {}
    fields["tools"] = ToolPolicyOptions(mode=tools.get("mode", "runner_default"),
                                        allow=tuple(tools.get("allow") or ()),
                                        deny=tuple(tools.get("deny") or ()))
    fields["append_system_prompts"] = tuple(fields.get("append_system_prompts") or ())
    return RunnerRequest(**fields)


class _Chunks:
    """A body's output, sent in batches from a thread of its own."""

    def __init__(self, send: Callable[[BodyChunks], None], ref: str) -> None:
        self._send = send
        self._ref = ref
        self._items: list[dict[str, Any]] = []
        self._lock = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="ail-body-chunks", daemon=True)
        self._thread.start()

    def add(self, item: dict[str, Any]) -> None:
        with self._lock:
            self._items.append(item)

    def _loop(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._closed, timeout=CHUNK_SECONDS)
                if self._closed:
                    return
                items, self._items = self._items, []
            if items:
                with contextlib.suppress(Exception):  # live output lost; the result stays
                    self._send(BodyChunks(workflow_ref=self._ref, items=items))

    def close(self) -> list[dict[str, Any]]:
        """Stop sending; returns the output not sent yet (it goes with the outcome)."""
        with self._lock:
            self._closed = True
            self._lock.notify()
        self._thread.join()
        with self._lock:
            left, self._items = self._items, []
        return left


class _Direct:
    """A body's output handed straight to the driver of this process that waits for it."""

    def __init__(self, waiter: Waiter) -> None:
        self.add = waiter.item

    def close(self) -> list[dict[str, Any]]:
        """Nothing is left: every item went at once."""
        return []


@lru_cache(maxsize=512)
def _script(text: str) -> StubScript:
    """A stub script read once (a step's bodies bring the same one)."""
    return StubScript.model_validate_json(text)


def _factory(request: BodyRequest) -> RunnerFactory:
    script = _script(request.stub_script) if request.stub_script else None
    return RunnerFactory(request.stub_response or DEFAULT_RESPONSE, script)


def run_body(request: BodyRequest, activity_id: str, send: Callable[[BodyChunks], None],
             heartbeat: Callable[[], bool], *, run_id: str, attempt: int,
             local: Waiter | None = None, ask: Ask | None = None) -> BodyOutcome:
    """Run ``request`` (``attempt`` 2 and later: recover it); ``heartbeat`` is called
    while it runs and says whether the body was cancelled. ``local``: the driver of this
    process that waits for the body, which gets its output and outcome directly and is
    asked its tool-use permission requests; else they go by ``ask``."""
    token = CancelToken()
    chunks = _Direct(local) if local is not None else _Chunks(send, activity_id)
    permissions = _asker(request, local, ask, token)
    done = threading.Event()
    outcome: list[BodyOutcome] = []

    def body() -> None:
        try:
            if attempt > 1 and request.reconcile:
                outcome.append(_reconcile(request, run_id, chunks.add, token))
            else:
                outcome.append(_run(request, chunks.add, token, permissions))
        except RunnerError as error:
            outcome.append(BodyOutcome(error_type=error.error_type, error=error.detail))
        except Exception as error:  # a bug or a broken runner: the step fails, visibly
            outcome.append(BodyOutcome(error_type="ail:runner/invocation-failed",
                                       error=f"{type(error).__name__}: {error}"))
        finally:
            done.set()

    threading.Thread(target=body, name=f"ail-body-{request.step_id}", daemon=True).start()
    try:
        while not done.wait(HEARTBEAT_SECONDS):
            if heartbeat():
                token.cancel(Cancellation("user", "cancelled"))
    except BaseException:  # the SDK raises the activity's cancellation in this thread
        token.cancel(Cancellation("user", "cancelled"))
        done.wait()  # the body has ended its processes
        chunks.close()
        raise
    ended = outcome[0]
    ended.items = chunks.close()
    if local is not None:
        local.finish(ended)
        ended.delivered = True
    return ended


def _asker(request: BodyRequest, local: Waiter | None, ask: Ask | None,
           token: CancelToken) -> PermissionAsker | None:
    """Who decides the body's tool uses: its driver's run (through ``local`` or
    ``ask``), or nobody when the run does not ask (the tool policy alone decides)."""
    if not request.asks:
        return None
    if local is not None:
        return local.ask
    if ask is None:
        return None
    numbers = itertools.count(1)

    def asked(permission: PermissionRequest) -> PermissionDecision:
        decision = ask(Question(request.ref, next(numbers), asdict(permission)), token)
        if decision is None:
            return PermissionDecision(allow=False, reason="The run was cancelled")
        return PermissionDecision(**decision)

    return asked


def _run(request: BodyRequest, on_item: Callable[[dict[str, Any]], None],
         token: CancelToken, permissions: PermissionAsker | None = None) -> BodyOutcome:
    factory = _factory(request)
    steps = LocalSteps(factory)
    if request.kind == "prompt":
        prompt = replace(runner_request(request.request), permissions=permissions)
        if request.conversation is not None and prompt.resume_session_id:
            factory.conversations.put(prompt.resume_session_id, request.conversation)
        result = steps.run_prompt(request.runner, prompt, on_item, token)
        conversation = (factory.conversations.get(result.session_id) if result.session_id
                        else None)
        return BodyOutcome(result=asdict(result), conversation=conversation)
    shell = steps.run_shell(request.command, step_id=request.step_id, cwd=request.cwd,
                            timeout=request.timeout, cancel=token, env=request.env,
                            on_line=lambda stream, text: on_item({"stream": stream,
                                                                  "text": text}))
    if shell.cancelled:
        return BodyOutcome(error_type=ErrorType.RUNNER_CANCELLED, error="cancelled")
    return BodyOutcome(result=asdict(shell))


def _reconcile(request: BodyRequest, run_id: str, on_item: Callable[[dict[str, Any]], None],
               token: CancelToken) -> BodyOutcome:
    """D3 for a body whose first attempt died with its worker."""
    assert request.reconcile is not None
    cwd = request.cwd or request.request.get("cwd") or os.getcwd()
    shell = LocalSteps(RunnerFactory()).run_shell(
        request.reconcile, step_id=request.step_id, cwd=cwd, cancel=token,
        timeout=request.timeout or RECONCILE_SECONDS,
        env={"AIL_RUN_ID": run_id, "AIL_STEP_ID": request.step_id},
        on_line=lambda stream, text: on_item({"stream": stream, "text": text}))
    if shell.cancelled:
        return BodyOutcome(error_type=ErrorType.RUNNER_CANCELLED, error="cancelled")
    if shell.exit_code != 0 or shell.timed_out:
        why = "timed out" if shell.timed_out else f"exited with {shell.exit_code}"
        return BodyOutcome(error_type=ErrorType.RECONCILE_FAILED,
                           error=f"Step '{request.step_id}' reconcile command {why}",
                           reconciled=True)
    if request.kind == "shell":
        result = asdict(ShellResult(stdout=shell.stdout, stderr="", exit_code=0,
                                    reconciled=True))
        return BodyOutcome(result=result, reconciled=True)
    recovered = RunnerResult(response=shell.stdout.rstrip("\n"), reconciled=True)
    return BodyOutcome(result=asdict(recovered), reconciled=True)
