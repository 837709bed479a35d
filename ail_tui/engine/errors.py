"""How a step or a run fails inside the engine."""

from __future__ import annotations

from ail_tui.cancel import Cancellation


class StepError(Exception):
    """A step's body failed with a stable ``error_type`` (subject to ``on_error``)."""

    def __init__(self, error_type: str, detail: str) -> None:
        super().__init__(detail)
        self.error_type = error_type
        self.detail = detail


class RunAborted(Exception):
    """The run stops as failed: on_error abort, an abort action, a join that failed."""

    def __init__(self, error_type: str, detail: str, step_id: str | None = None) -> None:
        super().__init__(detail)
        self.error_type = error_type
        self.detail = detail
        self.step_id = step_id


class StepCancelled(Exception):
    """The running step was cancelled; carries who and why."""

    def __init__(self, why: Cancellation) -> None:
        super().__init__(why.reason)
        self.why = why


class RunCancelled(Exception):
    """The run was cancelled (by the user, Ctrl-C, or a cancelled sequential step)."""

    def __init__(self, why: Cancellation) -> None:
        super().__init__(why.reason)
        self.why = why


class PipelineBreak(Exception):
    """An on_result ``break``: the current list stops successfully."""

    def __init__(self, step_id: str) -> None:
        super().__init__(step_id)
        self.step_id = step_id
