"""A step list being executed: its steps, scope, id prefix and parallel bookkeeping."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import jsonschema

from ail_tui.engine.scheduler import Scheduler
from ail_tui.engine.state import Scope
from ail_tui.pipeline.models import Step


@dataclass
class StepList:
    """One step list being executed (the pipeline, a loop body, a sub-pipeline)."""

    steps: list[Step]
    scope: Scope
    prefix: str = ""
    scheduler: Scheduler | None = None
    group: str | None = None


def new_group() -> str:
    """A fresh concurrent group id: ``cg-`` and 8 hex digits."""
    return "cg-" + uuid.uuid4().hex[:8]


def schema_problem(text: str | None, schema: Any) -> str | None:
    """Why ``text`` is not JSON matching ``schema``, or None when it is."""
    try:
        value = json.loads(text or "")
    except ValueError as exc:
        return f"not valid JSON ({exc})"
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    error = jsonschema.exceptions.best_match(validator(schema).iter_errors(value))
    return None if error is None else error.message
