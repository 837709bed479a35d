"""JSON Schema checks: schemas that compile, and adjacent steps whose schemas agree."""

from __future__ import annotations

import itertools
import json
from functools import cache, lru_cache
from typing import Any

from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.models import Step
from ail_tui.pipeline.validation.findings import Findings


@cache
def _meta_validator(cls: Any) -> Any:
    return cls(cls.META_SCHEMA)


@lru_cache(maxsize=1024)
def _problem_of(text: str) -> str | None:
    import jsonschema  # only pipelines with schemas pay for loading it
    from jsonschema.exceptions import best_match

    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    error = best_match(_meta_validator(cls).iter_errors(schema))
    if error is None:
        return None
    path = "/".join(str(p) for p in error.path)
    return f"{error.message}" + (f" (at {path})" if path else "")


def schema_problem(schema: Any) -> str | None:
    """Why ``schema`` is not a valid JSON Schema (Draft 7 unless ``$schema`` says), or None."""
    if not isinstance(schema, dict | bool):
        return "a JSON Schema must be a mapping (or a boolean)"
    try:
        text = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        return "the schema cannot be represented as JSON"
    return _problem_of(text)


def check_step_schemas(step: Step, findings: Findings) -> None:
    """Both schemas of a step must be valid JSON Schemas."""
    for name in ("output_schema", "input_schema"):
        schema = getattr(step, name)
        if schema is None:
            continue
        problem = schema_problem(schema)
        if problem:
            findings.error(
                f"{step.label} {name} is not a valid JSON Schema: {problem}",
                step.pos(name),
                step.id,
            )


def check_adjacent_schemas(steps: list[Step] | tuple[Step, ...], findings: Findings) -> None:
    """A step's input_schema must accept what the step before it declares it outputs."""
    for before, after in itertools.pairwise(steps):
        out, inp = before.output_schema, after.input_schema
        if not isinstance(out, dict) or not isinstance(inp, dict):
            continue
        out_type, in_type = out.get("type"), inp.get("type")
        if isinstance(out_type, str) and isinstance(in_type, str) and out_type != in_type:
            findings.error(
                f"Step '{after.id}' input_schema expects type '{in_type}' but the preceding "
                f"step '{before.id}' output_schema declares type '{out_type}'",
                after.pos("input_schema"),
                after.id,
                ErrorType.SCHEMA_COMPATIBILITY_FAILED,
            )
        properties = out.get("properties")
        required = inp.get("required")
        if isinstance(properties, dict) and isinstance(required, list):
            for name in required:
                if isinstance(name, str) and name not in properties:
                    findings.error(
                        f"Step '{after.id}' input_schema requires field '{name}' which the "
                        f"preceding step '{before.id}' output_schema does not declare in its "
                        "properties",
                        after.pos("input_schema"),
                        after.id,
                        ErrorType.SCHEMA_COMPATIBILITY_FAILED,
                    )
