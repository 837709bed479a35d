"""Reading marked YAML data into models, reporting every wrong shape at its place.

Validation is lenient: each offending key is reported, dropped, and the model is
validated again, so one bad field never hides the rest of a step.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ail_tui.pipeline.diagnostics import Diagnostic, ErrorType
from ail_tui.pipeline.source import Marks, Position, YamlMap, YamlSeq, marks_of

ModelT = TypeVar("ModelT", bound=BaseModel)

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    text = str(value)
    return f"'{text[:40]}…'" if len(text) > 40 else f"'{text}'"


def _real_loc(raw: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The part of a pydantic error location that names real keys and indexes in ``raw``."""
    path: list[Any] = []
    current = raw
    for part in loc:
        in_map = isinstance(current, dict) and isinstance(part, str) and part in current
        in_seq = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_map or in_seq:
            path.append(part)
            current = current[part]
    return tuple(path)


def locate(raw: Any, path: tuple[Any, ...]) -> Position | None:
    """The position of the node at ``path`` (keys and indexes) inside marked data."""
    position: Position | None = None
    current = raw
    for part in path:
        marks: Marks | None = marks_of(current)
        if marks is None:
            break
        if isinstance(part, str):
            position = marks.value(part)
        elif 0 <= part < len(marks.items):
            position = marks.items[part]
        current = current[part]
    if position is None:
        marks = marks_of(raw)
        position = marks.at if marks else None
    return position


def _without(raw: Any, path: tuple[Any, ...]) -> Any:
    """A copy of ``raw`` with the node at ``path`` removed (copying only along the path)."""
    head, rest = path[0], path[1:]
    marks = marks_of(raw)
    if isinstance(raw, dict):
        copy: Any = YamlMap(marks, raw) if marks is not None else dict(raw)
        if rest:
            copy[head] = _without(raw[head], rest)
        else:
            del copy[head]
        return copy
    items = list(raw)
    if rest:
        items[head] = _without(raw[head], rest)
        return YamlSeq(marks, items) if marks is not None else items
    del items[head]
    if marks is None:
        return items
    kept = [*marks.items[:head], *marks.items[head + 1 :]]
    new_marks = Marks(marks.at, marks.keys, marks.values, kept)
    return YamlSeq(new_marks, items)


def _field_name(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def read_model(
    model: type[ModelT], raw: Any, subject: str, step_id: str | None = None
) -> tuple[ModelT | None, list[Diagnostic]]:
    """Validate ``raw`` into ``model``; wrong shapes become ``ail:config/invalid-yaml`` findings.

    ``subject`` starts each message (e.g. ``"Step 'lint'"``). The model is ``None``
    only when ``raw`` itself has the wrong shape.
    """
    found: list[Diagnostic] = []
    seen: set[tuple[Any, ...]] = set()
    for _ in range(200):
        try:
            return model.model_validate(raw), found
        except ValidationError as exc:
            paths: list[tuple[Any, ...]] = []
            for error in exc.errors():
                path = _real_loc(raw, error["loc"])
                if path in seen:
                    continue
                seen.add(path)
                paths.append(path)
                expected = _EXPECTED.get(error["type"])
                field = _field_name(path)
                what = f"field '{field}'" if field else "the value"
                if expected:
                    message = f"{what} must be {expected}, not {_describe(error['input'])}"
                else:
                    message = f"{what}: {error['msg']}"
                found.append(
                    Diagnostic(
                        ErrorType.INVALID_YAML,
                        f"{subject}: {message}" if subject else message[0].upper() + message[1:],
                        locate(raw, path),
                        step_id,
                    )
                )
            if not paths or () in paths:
                return None, found
            # Deepest and highest-indexed first, so earlier removals never shift later paths.
            for path in sorted(paths, key=lambda p: tuple((isinstance(x, int), x) for x in p),
                               reverse=True):
                raw = _without(raw, path)
    return None, found
