"""Step bodies run as activities on any worker: the driver's
:class:`~ail_tui.engine.step_backend.StepBackend`.

A body is asked for in the driver's next ``publish`` batch and waited for here; its
output and its outcome come back as notes through the workflow's ``exchange`` update, read
by one thread (:meth:`RemoteSteps.follow`) that hands each to the body waiting for it, or
straight from the body when it runs in this process (:mod:`.handoff`). Controls from
clients arrive through the notes and go to ``on_control``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ail_tui.cancel import CancelToken
from ail_tui.engine import workers
from ail_tui.engine.shell import LineSink, ShellResult
from ail_tui.orchestration.temporal.handoff import Handoff
from ail_tui.orchestration.temporal.link import WorkflowLink
from ail_tui.orchestration.temporal.messages import (
    Answer,
    BodyOutcome,
    BodyRequest,
    Control,
    Question,
)
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import RunnerError, RunnerEventSink, RunnerRequest, RunnerResult
from ail_tui.runners.http_history import ConversationStore
from ail_tui.runners.permissions import PermissionAsker, PermissionDecision, PermissionRequest
from ail_tui.runners.stub import StubScript


def request_data(request: RunnerRequest) -> dict[str, Any]:
    """``request`` as plain data, without its credential and its permission asker (a
    worker takes credentials from its own environment)."""
    data = asdict(request)
    data.pop("permissions", None)
    data.pop("auth_token", None)
    return data


@dataclass
class _Waiting:
    """One body the driver waits for (a :class:`~.handoff.Waiter`)."""

    on_item: Callable[[dict[str, Any]], None]
    asker: PermissionAsker | None = None
    done: threading.Event = field(default_factory=threading.Event)
    outcome: BodyOutcome | None = None

    def item(self, item: dict[str, Any]) -> None:
        """Pass on a piece of the body's output."""
        self.on_item(item)

    def finish(self, outcome: BodyOutcome) -> None:
        """The body's end: its last output, then its outcome."""
        if self.done.is_set():
            return
        for item in outcome.items:
            self.on_item(item)
        self.outcome = outcome
        self.done.set()

    def ask(self, request: PermissionRequest) -> PermissionDecision:
        """Ask the run's person about a tool use of the body."""
        if self.asker is None:  # the body was not sent as one that asks
            return PermissionDecision(allow=False, reason="No one to ask")
        return self.asker(request)


class RemoteSteps:
    """Runs the bodies of one run's steps as activities of its workflow."""

    def __init__(self, link: WorkflowLink, run_tag: str, ask: Callable[[BodyRequest], None],
                 answer: Callable[[Answer], None], *, stub_response: str | None,
                 stub_script: str | None, conversations: ConversationStore,
                 handoff: Handoff | None = None) -> None:
        """``ask`` sends a request for a body to the workflow, ``answer`` the decision on
        a body's question; ``conversations`` keeps the run's HTTP conversations (each body
        gets the one it resumes); ``handoff`` is where bodies run by this process find
        their driver."""
        self._link = link
        self._conversations = conversations
        self._handoff = handoff
        self._ask = ask
        self._answer = answer
        self._tag = run_tag
        self._refs = (f"{run_tag}-{n}" for n in itertools.count(1))
        self._lock = threading.Lock()
        self._waiting: dict[str, _Waiting] = {}
        self._stub_response = stub_response
        self._script = (StubScript.model_validate_json(stub_script)
                        if stub_script is not None else None)
        self._scripts: dict[str, str] = {}
        """Per step: the part of the stub script it reads, as sent with its bodies."""
        self.on_control: Callable[[Control], None] = lambda control: None
        self._stopped = threading.Event()

    def run_prompt(self, runner: str, request: RunnerRequest, emit: RunnerEventSink,
                   cancel: CancelToken, *, reconcile: str | None = None) -> RunnerResult:
        """Send ``request`` to ``runner`` on some worker; its events stream to ``emit``
        (a worker that takes over a lost attempt runs ``reconcile`` instead)."""
        session = request.resume_session_id
        outcome = self._body(BodyRequest(ref="", step_id=request.step_id, kind="prompt",
                                         runner=runner, request=request_data(request),
                                         reconcile=reconcile,
                                         asks=request.permissions is not None,
                                         conversation=(self._conversations.get(session)
                                                       if session else None)),
                             _Waiting(lambda item: emit(item), request.permissions), cancel)
        if outcome.error_type is not None:
            raise RunnerError(outcome.error_type, outcome.error or "")
        result = RunnerResult(**(outcome.result or {"response": ""}))
        if outcome.conversation is not None and result.session_id:
            self._conversations.put(result.session_id, outcome.conversation)
        return result

    def run_shell(self, command: str, *, step_id: str, cwd: str, timeout: float,
                  on_line: LineSink, cancel: CancelToken,
                  env: dict[str, str] | None = None,
                  reconcile: str | None = None) -> ShellResult:
        """Run ``command`` on some worker; its lines stream to ``on_line`` (a worker
        that takes over a lost attempt runs ``reconcile`` instead)."""
        outcome = self._body(BodyRequest(ref="", step_id=step_id, kind="shell",
                                         command=command, cwd=cwd, timeout=timeout, env=env,
                                         reconcile=reconcile),
                             _Waiting(lambda item: on_line(item["stream"], item["text"])),
                             cancel)
        if outcome.error_type == ErrorType.RUNNER_CANCELLED:
            return ShellResult(stdout="", stderr="", exit_code=-1, cancelled=True)
        if outcome.error_type is not None:
            raise RunnerError(outcome.error_type, outcome.error or "")
        return ShellResult(**(outcome.result or {}))

    def submit(self, body: Callable[[], None]) -> None:
        """Run a branch here, on the driver's worker pool (its bodies go out)."""
        workers.submit(body)

    def _body(self, request: BodyRequest, waiting: _Waiting, cancel: CancelToken
              ) -> BodyOutcome:
        request.ref = next(self._refs)
        request.stub_response = self._stub_response
        if self._script is not None:
            script = self._scripts.get(request.step_id)
            if script is None:
                script = self._scripts[request.step_id] = self._script.for_step(
                    request.step_id).model_dump_json(exclude_defaults=True)
            request.stub_script = script
        with self._lock:
            self._waiting[request.ref] = waiting
        if self._handoff is not None:
            self._handoff.expect(self._link.workflow_id, request.ref, waiting)
        try:
            self._ask(request)
            forget = cancel.on_cancel(lambda: self._cancel(request.ref))
            try:
                while not waiting.done.wait(0.5):
                    if self._stopped.is_set():
                        return BodyOutcome(error_type=ErrorType.RUNNER_CANCELLED,
                                           error="the driver stopped")
            finally:
                forget()
        finally:
            if self._handoff is not None:
                self._handoff.forget(self._link.workflow_id, request.ref)
            with self._lock:
                self._waiting.pop(request.ref, None)
        assert waiting.outcome is not None
        return waiting.outcome

    def _cancel(self, ref: str) -> None:
        threading.Thread(target=self._link.signal, args=("cancel_body", ref),
                         name="ail-cancel-body", daemon=True).start()

    def follow(self) -> None:
        """Hand out the workflow's notes until :meth:`stop` (the driver's reader thread)."""
        seen = 0
        while not self._stopped.is_set():
            try:
                notes = self._link.exchange(seen, self._tag)
            except Exception:
                if self._stopped.wait(0.2):
                    return
                continue
            for note in notes:
                seen = max(seen, note.seq)
                self._deliver(note.kind, note.ref, note.payload)

    def _deliver(self, kind: str, ref: str, payload: Any) -> None:
        if kind == "control":
            self.on_control(Control(**payload))
            return
        with self._lock:
            waiting = self._waiting.get(ref)
        if waiting is None:
            return
        if kind == "chunks":
            for item in payload:
                waiting.item(item)
        elif kind == "question":
            threading.Thread(target=self._decide, args=(waiting, Question(**payload)),
                             name="ail-question", daemon=True).start()
        elif kind == "outcome":
            waiting.finish(BodyOutcome(**payload) if isinstance(payload, dict) else payload)

    def _decide(self, waiting: _Waiting, question: Question) -> None:
        """Ask the run's person a body's question; the decision goes back to the body."""
        decision = waiting.ask(PermissionRequest(**question.request))
        self._answer(Answer(question.ref, question.number, asdict(decision)))

    def stop(self) -> None:
        """Stop reading notes; bodies still waiting end as cancelled."""
        self._stopped.set()
