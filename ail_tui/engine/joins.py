"""Join steps: merging the results of their dependencies (brief §8, decisions P6, P8)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ail_tui.engine.errors import StepError
from ail_tui.turnlog.entry import TurnEntry


@dataclass(frozen=True)
class DepOutcome:
    """How one dependency of a join ended."""

    step_id: str
    entry: TurnEntry | None = None  # set when it succeeded
    error_type: str | None = None  # set when it failed or was cancelled
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        """Whether the dependency produced an entry."""
        return self.entry is not None


class JoinError(StepError):
    """A join that cannot produce its merged output."""


def string_join(deps: list[DepOutcome]) -> str:
    """``[id]:\\nbody\\n`` per dependency in depends_on order, blocks joined by a newline."""
    blocks = []
    for dep in deps:
        if dep.entry is not None:
            body = dep.entry.response if dep.entry.response is not None else ""
        elif dep.error is not None:
            body = f"<error: {dep.error}>"
        else:
            body = "<missing>"
        blocks.append(f"[{dep.step_id}]:\n{body}\n")
    return "\n".join(blocks)


def structured_join(deps: list[DepOutcome]) -> str:
    """``{dep_id: parsed response}`` as compact sorted-key JSON; failures as error envelopes."""
    merged: dict[str, Any] = {}
    for dep in deps:
        if dep.entry is not None:
            try:
                merged[dep.step_id] = json.loads(dep.entry.response or "")
            except ValueError as exc:
                raise JoinError(
                    "ail:config/validation-failed",
                    f"Join dependency '{dep.step_id}' did not return valid JSON despite "
                    f"declaring output_schema: {exc}",
                ) from None
        else:
            merged[dep.step_id] = {
                "error": dep.error or "step did not run",
                "error_type": dep.error_type or "ail:pipeline/aborted",
            }
    return json.dumps(merged, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def join_prompt(dep_ids: list[str]) -> str:
    """The synthetic prompt a join entry records: ``join:[a,b]``."""
    return "join:[" + ",".join(dep_ids) + "]"
