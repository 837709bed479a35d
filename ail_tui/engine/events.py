"""The executor's typed event stream (brief §10 names and keys, plus ours; decisions F5).

Events are small frozen dataclasses produced once by the engine and consumed by every
front end; :meth:`Event.to_json` is their NDJSON form (``run --headless``).
"""

from __future__ import annotations

import time
from dataclasses import Field, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

from ail_tui.credentials import SecretSet
from ail_tui.turnlog.timestamps import format_timestamp

if TYPE_CHECKING:
    from ail_tui.turnlog.entry import TurnEntry

RECORD_ONLY = {"record_only": True}
"""Field metadata: what the turn log keeps of an event and its JSON form leaves out."""

_PUBLIC: dict[type[Event], tuple[Field[Any], ...]] = {}


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every event: a ``type`` and the moment it happened (epoch seconds)."""

    type: ClassVar[str] = "event"
    omit_when_none: ClassVar[frozenset[str]] = frozenset()
    journal_only: ClassVar[bool] = False
    """Only the turn log takes it: it is never announced."""
    at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON object (``at`` as a turn-log timestamp)."""
        out: dict[str, Any] = {"type": self.type, "at": format_timestamp(self.at)}
        public = _PUBLIC.get(type(self))
        if public is None:
            public = _PUBLIC[type(self)] = tuple(
                item for item in fields(self)
                if item.name != "at" and not item.metadata.get("record_only"))
        for item in public:
            value = getattr(self, item.name)
            if value is None and item.name in self.omit_when_none:
                continue
            out[item.name] = value
        return out


@dataclass(frozen=True, kw_only=True)
class RunStarted(Event):
    """The run began."""

    type: ClassVar[str] = "run_started"
    omit_when_none: ClassVar[frozenset[str]] = frozenset({"resumed"})
    pipeline_source: str | None
    run_id: str
    total_steps: int
    log_path: str | None = None
    resumed: bool | None = None
    """True when the run goes on from where it stopped, in its own log (D1)."""
    pipeline_hash: str | None = field(default=None, metadata=RECORD_ONLY)


@dataclass(frozen=True, kw_only=True)
class StepQueued(Event):
    """An async step was launched; it waits for its dependencies and a concurrency slot."""

    type: ClassVar[str] = "step_queued"
    step_id: str
    concurrent_group: str
    depends_on: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class StepStarted(Event):
    """A step's body began (for a branch: it took a slot)."""

    type: ClassVar[str] = "step_started"
    omit_when_none: ClassVar[frozenset[str]] = frozenset({"concurrent_group"})
    step_id: str
    step_index: int
    total_steps: int
    resolved_prompt: str | None = None
    concurrent_group: str | None = None
    attempt: int = 1
    recorded_prompt: str | None = field(default=None, metadata=RECORD_ONLY)
    """The prompt the ``step_started`` record keeps (None: no record, as for a join)."""
    launched_at: float | None = field(default=None, metadata=RECORD_ONLY)
    """When a branch was launched (its record keeps it)."""
    iteration: tuple[int, ...] = field(default=(), metadata=RECORD_ONLY)
    """Inside loops: the iteration of each enclosing loop (the step's records keep it)."""
    child_run: str | None = field(default=None, metadata=RECORD_ONLY)
    """A sub-pipeline step: the run id of the sub-pipeline's own run (and log)."""


@dataclass(frozen=True, kw_only=True)
class StepOutput(Event):
    """A line of a shell step's stdout or stderr, as it was written."""

    type: ClassVar[str] = "step_output"
    step_id: str
    stream: str
    text: str


@dataclass(frozen=True, kw_only=True)
class RunnerEvent(Event):
    """A runner's streamed event (stream_delta, thinking, tool_use, ..., completed)."""

    type: ClassVar[str] = "runner_event"
    step_id: str
    event: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class StepCompleted(Event):
    """A step finished and its turn entry was recorded."""

    type: ClassVar[str] = "step_completed"
    omit_when_none: ClassVar[frozenset[str]] = frozenset(
        {"model", "concurrent_group", "exit_code", "reused_from", "reconciled"}
    )
    step_id: str
    cost_usd: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    response: str | None = None
    model: str | None = None
    concurrent_group: str | None = None
    exit_code: int | None = None
    reused_from: str | None = None
    """The run whose result was reused instead of running the step (D1, D4)."""
    reconciled: bool | None = None
    """True when the step's ``reconcile:`` command recovered its result (D3)."""
    entry: TurnEntry | None = field(default=None, metadata=RECORD_ONLY, compare=False,
                                    repr=False)
    """The turn entry the log records (None: nothing to record, as for a gate)."""
    gate_passed: tuple[int, ...] | None = field(default=None, metadata=RECORD_ONLY)
    """A ``pause_for_human`` gate the run went past (its iteration inside loops): the log
    records the passage, so a resumed run does not stop there again."""


@dataclass(frozen=True, kw_only=True)
class StepSkipped(Event):
    """A step did not run (condition false, disabled, or never launched)."""

    type: ClassVar[str] = "step_skipped"
    step_id: str
    reason: str = "condition"


@dataclass(frozen=True, kw_only=True)
class StepFailed(Event):
    """A step's attempt failed (not always terminal: a retry may follow)."""

    type: ClassVar[str] = "step_failed"
    step_id: str
    error: str
    error_type: str


@dataclass(frozen=True, kw_only=True)
class StepErrorContinued(Event):
    """A step failed and ``on_error: continue`` carried the run on."""

    type: ClassVar[str] = "step_error_continued"
    step_id: str
    error: str
    error_type: str


@dataclass(frozen=True, kw_only=True)
class StepRetrying(Event):
    """A failed attempt will be retried."""

    type: ClassVar[str] = "step_retrying"
    step_id: str
    error: str
    attempt: int
    max_retries: int
    error_type: str = field(default="", metadata=RECORD_ONLY)


@dataclass(frozen=True, kw_only=True)
class StepAborted(Event):
    """A step's failure aborts the run: the turn log's ``step_error(abort_pipeline)``
    (after its retries, or for a branch). Never announced: ``step_failed`` says it."""

    type: ClassVar[str] = "step_aborted"
    journal_only: ClassVar[bool] = True
    step_id: str
    error: str
    error_type: str
    retry_attempt: int | None = None
    max_retries: int | None = None


@dataclass(frozen=True, kw_only=True)
class StepDefinitions(Event):
    """The hash of each step's definition (D2), worked out while the run goes on: the
    turn log's ``step_definitions``. Never announced."""

    type: ClassVar[str] = "step_definitions"
    journal_only: ClassVar[bool] = True
    step_hashes: dict[str, str]
    files_hash: str | None = None
    """The hash of every file the steps read (with the pipeline file's, it says whether
    any step can have changed)."""


@dataclass(frozen=True, kw_only=True)
class StepCancelled(Event):
    """A step was cancelled (by the user, a fail_fast join, a failed dependency, the run)."""

    type: ClassVar[str] = "step_cancelled"
    omit_when_none: ClassVar[frozenset[str]] = frozenset({"concurrent_group"})
    step_id: str
    cancelled_by: str
    reason: str
    concurrent_group: str | None = None
    launched_at: float | None = field(default=None, metadata=RECORD_ONLY)


@dataclass(frozen=True, kw_only=True)
class HitlGateReached(Event):
    """A pause_for_human gate waits for an answer."""

    type: ClassVar[str] = "hitl_gate_reached"
    omit_when_none: ClassVar[frozenset[str]] = frozenset({"message"})
    step_id: str
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class HitlModifyReached(Event):
    """A modify_output gate waits for the edited text."""

    type: ClassVar[str] = "hitl_modify_reached"
    omit_when_none: ClassVar[frozenset[str]] = frozenset({"message", "last_response"})
    step_id: str
    message: str | None = None
    last_response: str | None = None


@dataclass(frozen=True, kw_only=True)
class PermissionRequested(Event):
    """A runner asks whether a tool use may run; ``request_id`` is what answers it."""

    type: ClassVar[str] = "permission_requested"
    omit_when_none: ClassVar[frozenset[str]] = frozenset({"tool_use_id"})
    step_id: str
    request_id: str
    tool_name: str
    tool_input: dict[str, Any] = field(default_factory=dict)
    tool_use_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class PermissionAnswered(Event):
    """A permission request was decided: ``once``, ``step`` (the tool for the step), ``deny``."""

    type: ClassVar[str] = "permission_answered"
    omit_when_none: ClassVar[frozenset[str]] = frozenset({"reason"})
    step_id: str
    request_id: str
    tool_name: str
    decision: str
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class RunPaused(Event):
    """The run will start no new step until resumed."""

    type: ClassVar[str] = "run_paused"


@dataclass(frozen=True, kw_only=True)
class RunResumed(Event):
    """The run goes on."""

    type: ClassVar[str] = "run_resumed"


@dataclass(frozen=True, kw_only=True)
class Warning_(Event):
    """Something the user should know that does not stop the run."""

    type: ClassVar[str] = "warning"
    omit_when_none: ClassVar[frozenset[str]] = frozenset({"step_id"})
    message: str
    step_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class PipelineCompleted(Event):
    """The run ended successfully: ``completed``, or ``break`` at ``step_id``."""

    type: ClassVar[str] = "pipeline_completed"
    omit_when_none: ClassVar[frozenset[str]] = frozenset({"step_id"})
    outcome: str
    step_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class PipelineError(Event):
    """The run ended in failure, or was cancelled (``ail:runner/cancelled``)."""

    type: ClassVar[str] = "pipeline_error"
    error: str
    error_type: str
    status: str = "failed"


TERMINAL = (PipelineCompleted, PipelineError)


def _record_only(cls: type[Event]) -> tuple[tuple[str, Any], ...]:
    """The record-only fields of ``cls``: each name and its default."""
    found = _RECORD_ONLY.get(cls)
    if found is None:
        found = _RECORD_ONLY[cls] = tuple(
            (item.name, item.default) for item in fields(cls)
            if item.metadata.get("record_only"))
    return found


_RECORD_ONLY: dict[type[Event], tuple[tuple[str, Any], ...]] = {}


def announced(event: Event, secrets: SecretSet) -> Event:
    """``event`` as subscribers get it: without what only the turn log keeps, and with
    every known secret masked in its texts (itself when there is nothing to change)."""
    values = event.__dict__
    changes: dict[str, Any] = {}
    for name, default in _record_only(type(event)):
        if values[name] is not default:
            changes[name] = default
    if secrets:
        for name, value in values.items():
            if isinstance(value, str | dict | list) and name not in changes:
                masked = secrets.redact_value(value)
                if masked != value:
                    changes[name] = masked
    if not changes:
        return event
    copy = object.__new__(type(event))  # a frozen copy, without running __init__ again
    copy.__dict__.update(values, **changes)
    return copy
