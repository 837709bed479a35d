"""Which Temporal service a run uses (decisions O2), read without importing Temporal."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

DEFAULT_ADDRESS = "127.0.0.1:7233"
DEFAULT_NAMESPACE = "default"
DEFAULT_TASK_QUEUE = "ail-tui"


@dataclass(frozen=True)
class TemporalTarget:
    """A Temporal service's address, the namespace and the task queue workers poll."""

    address: str = DEFAULT_ADDRESS
    namespace: str = DEFAULT_NAMESPACE
    task_queue: str = DEFAULT_TASK_QUEUE

    @classmethod
    def from_env(cls, address: str | None = None, namespace: str | None = None,
                 task_queue: str | None = None) -> TemporalTarget:
        """The given values, else ``AIL_TEMPORAL_ADDRESS``, ``AIL_TEMPORAL_NAMESPACE``
        and ``AIL_TEMPORAL_TASK_QUEUE``, else the defaults."""
        env = os.environ
        return cls(address or env.get("AIL_TEMPORAL_ADDRESS") or DEFAULT_ADDRESS,
                   namespace or env.get("AIL_TEMPORAL_NAMESPACE") or DEFAULT_NAMESPACE,
                   task_queue or env.get("AIL_TEMPORAL_TASK_QUEUE") or DEFAULT_TASK_QUEUE)


def target_note(target: TemporalTarget | None) -> dict[str, str] | None:
    """``target`` as a run's note keeps it (None: the run is not on Temporal)."""
    return asdict(target) if target is not None else None


def workflow_id(run_id: str) -> str:
    """The workflow id of run ``run_id``."""
    return f"ail-run-{run_id}"


def run_id_of(workflow: str) -> str:
    """The run id of the workflow with id ``workflow``."""
    return workflow.removeprefix("ail-run-")


def unreachable(target: TemporalTarget, error: BaseException | None) -> str:
    """Why ``target`` could not be reached, in one line."""
    text = str(error or "") or "no answer"
    if "Connection refused" in text:
        text = "connection refused"
    elif "dns error" in text or "failed to lookup" in text:
        text = "unknown host"
    return (f"cannot reach the Temporal service at {target.address}: {text.splitlines()[0][:200]}"
            " (start one with 'ail-tui dev-server', or set AIL_TEMPORAL_ADDRESS)")
