"""What travels through Temporal for a run: plain dataclasses the SDK's JSON converter
carries (no Temporal import here, so the driver's and the client's code can use them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WORKFLOW = "ail-run"
"""The run workflow's type name."""
DRIVE = "ail-drive-run"
"""The activity that runs the interpreter."""
BODY = "ail-step-body"
"""The activity that runs one step body."""


@dataclass
class RunStart:
    """A run as the client asks for it: the pipeline's text and the run options."""

    run_id: str
    pipeline_source: str
    """The pipeline's path on the client (the turn log's ``pipeline_source``)."""
    pipeline_text: str
    cwd: str
    prompt: str | None = None
    runner: str | None = None
    model: str | None = None
    stub_response: str | None = None
    stub_script: str | None = None
    """The stub script's text (a worker may not see the client's file)."""
    interactive: bool = False


@dataclass
class BodyRequest:
    """One step body the driver asks the workflow to run."""

    ref: str
    """The driver's name for this request (unique per run)."""
    step_id: str
    kind: str
    """``prompt`` or ``shell``."""
    runner: str = ""
    request: dict[str, Any] = field(default_factory=dict)
    """A :class:`~ail_tui.runners.base.RunnerRequest` as plain data, no credentials."""
    command: str = ""
    cwd: str = ""
    timeout: float = 0.0
    env: dict[str, str] | None = None
    stub_response: str | None = None
    stub_script: str | None = None
    reconcile: str | None = None
    """The step's ``reconcile`` command: run instead when this body's first attempt
    was lost with its worker (decisions D3)."""
    asks: bool = False
    """The run asks a person before a tool use of this prompt (a :class:`Question`)."""
    conversation: list[dict[str, Any]] | None = None
    """The messages so far of the HTTP conversation this prompt resumes (its session is
    the request's ``resume_session_id``)."""


@dataclass
class BodyOutcome:
    """How a step body ended: its result as plain data, or its error."""

    result: dict[str, Any] | None = None
    error_type: str | None = None
    error: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    """Output not sent while the body ran (its last), delivered before the outcome."""
    reconciled: bool = False
    """The result was recovered by the step's ``reconcile`` command (D3)."""
    delivered: bool = False
    """The body handed output and outcome to its driver itself (same process): the
    workflow keeps the outcome but does not pass it back."""
    conversation: list[dict[str, Any]] | None = None
    """The HTTP conversation of the result's session, with this prompt's exchange."""


@dataclass
class BodyChunks:
    """Output of a running body, in order: runner events, or ``{stream, text}`` lines."""

    workflow_ref: str
    """The workflow's key of the body (its activity id)."""
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Question:
    """A body's tool-use permission request, for the driver's run to ask a person."""

    ref: str
    """The body's ref (the one its activity id names)."""
    number: int
    """Its question's number within the body."""
    request: dict[str, Any] = field(default_factory=dict)
    """A :class:`~ail_tui.runners.permissions.PermissionRequest` as plain data."""


@dataclass
class Answer:
    """The person's decision on a :class:`Question`."""

    ref: str
    number: int
    decision: dict[str, Any] = field(default_factory=dict)
    """A :class:`~ail_tui.runners.permissions.PermissionDecision` as plain data."""


@dataclass
class Published:
    """What the driver produced since its last batch: announced events (the event
    codec's JSON lines), turn-log records (``[log name, record]``), the step bodies it
    asks for and the answers to bodies' questions, each in order."""

    events: list[str] = field(default_factory=list)
    records: list[list[Any]] = field(default_factory=list)
    bodies: list[BodyRequest] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)


@dataclass
class DriverNote:
    """A note for the driver: a body's output or outcome, or a control."""

    seq: int
    kind: str
    """``chunks``, ``outcome``, ``question`` or ``control``."""
    ref: str = ""
    payload: Any = None


@dataclass
class Control:
    """A control from a client: ``cancel``, ``cancel_step``, ``pause``, ``resume``,
    ``gate``, ``permission``."""

    action: str
    step_id: str = ""
    reason: str = ""
    by: str = "user"
    approved: bool = True
    text: str | None = None
    request_id: str = ""
    """For ``permission``: the request answered (``approved``: allowed)."""
    for_step: bool = False
    """For ``permission``: the tool is allowed for the rest of the step."""


@dataclass
class Progress:
    """What a client reads of a run: events and records after the counts it has."""

    events: list[str]
    records: list[list[Any]]
    event_count: int
    record_count: int
    ended: dict[str, Any] | None = None
    """The run's end (a :class:`~ail_tui.engine.run_types.RunResult` as plain data)."""
    paused: bool = False
