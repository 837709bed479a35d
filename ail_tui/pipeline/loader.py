"""Loading a pipeline file: reading, YAML, `FROM` inheritance and hook operations.

The result is a :class:`Pipeline` (its steps as models, each remembering its file
and position) plus every problem found on the way. Language rules are checked
afterwards by :mod:`ail_tui.pipeline.validation`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ail_tui.files import MAX_PIPELINE_BYTES, FileReadError, read_text_file
from ail_tui.pipeline.diagnostics import Diagnostic, ErrorType
from ail_tui.pipeline.models import HOOK_KEYS, Defaults, PipelineFile, Step
from ail_tui.pipeline.shapes import read_model
from ail_tui.pipeline.source import Marks, Position, YamlMap, YamlSeq, YamlSyntaxError, parse_yaml


@dataclass
class Pipeline:
    """A loaded pipeline: the main step list, named pipelines, defaults, and its files."""

    source: Path
    version: str | None
    defaults: Defaults
    steps: list[Step]
    pipelines: dict[str, list[Step]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    has_from: bool = False
    version_pos: Position | None = None
    pipeline_pos: Position | None = None
    pipelines_pos: dict[str, Position] = field(default_factory=dict)
    document: PipelineFile | None = None
    has_steps_errors: bool = False

    @cached_property
    def directory(self) -> Path:
        """The directory that relative prompt and pipeline paths are joined to."""
        return self.source.parent


@dataclass
class LoadResult:
    """What loading produced: a pipeline when the file could be read, and the findings."""

    pipeline: Pipeline | None
    diagnostics: list[Diagnostic]
    files: list[Path]

    @property
    def errors(self) -> list[Diagnostic]:
        """Findings that make the pipeline invalid."""
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        """Findings that do not."""
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def valid(self) -> bool:
        """Whether the pipeline loaded with no error."""
        return self.pipeline is not None and not self.errors

    @property
    def unreadable(self) -> list[Diagnostic]:
        """Why the pipeline file itself could not be read (no position); empty when it was.

        A missing FROM base or another referenced file is a positioned finding in a file
        that was read, so it makes the pipeline invalid, not unreadable.
        """
        if self.pipeline is not None:
            return []
        return [d for d in self.diagnostics
                if d.error_type == ErrorType.FILE_NOT_FOUND and d.position is None]


FILE_PREFIXES = ("./", "../", "~/", "/")


def is_file_reference(text: str) -> bool:
    """Whether a prompt or system_prompt value names a file rather than inline text."""
    return text.startswith(FILE_PREFIXES)


def resolve_path(text: str, base_dir: Path) -> Path:
    """A referenced file: ``~`` expanded, relative paths joined to ``base_dir``."""
    path = Path(os.path.expanduser(text))
    return path if path.is_absolute() else base_dir / path


Item = tuple[Any, Position | None]


@dataclass
class _Document:
    """One file's raw top level, with its `FROM` chain already merged in."""

    path: Path
    raw: YamlMap
    steps: list[Item]
    named: dict[str, Any]
    files: list[Path]
    has_from: bool


def _read_text(path: Path, where: Position | None) -> tuple[str | None, Diagnostic | None]:
    try:
        return read_text_file(path, MAX_PIPELINE_BYTES, "pipeline files"), None
    except FileReadError as exc:
        return None, Diagnostic(ErrorType.FILE_NOT_FOUND, f"Could not read '{path}': {exc}",
                                where)


def _parse_file(
    path: Path, where: Position | None, found: list[Diagnostic]
) -> YamlMap | None:
    text, problem = _read_text(path, where)
    if problem is not None:
        found.append(problem)
        return None
    assert text is not None
    try:
        raw = parse_yaml(text, str(path))
    except YamlSyntaxError as exc:
        found.append(
            Diagnostic(ErrorType.INVALID_YAML, f"Failed to parse '{path}': {exc}", exc.position,
                       context_position=exc.context_position, context_label=exc.context_label)
        )
        return None
    if not isinstance(raw, YamlMap):
        if raw is None:
            got = "an empty document"
        else:
            got = "a list" if isinstance(raw, list) else "a scalar"
        found.append(
            Diagnostic(
                ErrorType.INVALID_YAML,
                f"Failed to parse '{path}': the document must be a mapping with "
                f"'version' and 'pipeline' keys, not {got}",
                Position(str(path), 1, 1),
            )
        )
        return None
    return raw


def _merge_maps(base: Any, child: Any, nested: tuple[str, ...]) -> Any:
    """Child keys win; keys named in ``nested`` merge field by field (one level down)."""
    if not isinstance(base, dict) or not isinstance(child, dict):
        return child if child is not None else base
    child_marks: Marks = child.marks  # type: ignore[attr-defined]  # YamlMap
    base_marks: Marks = base.marks  # type: ignore[attr-defined]
    marks = Marks(
        child_marks.at,
        {**base_marks.keys, **child_marks.keys},
        {**base_marks.values, **child_marks.values},
    )
    merged = YamlMap(marks, base)
    for key, value in child.items():
        if key in nested and isinstance(base.get(key), dict) and isinstance(value, dict):
            merged[key] = _merge_maps(base[key], value, ("sampling",))
        else:
            merged[key] = value
    return merged


def _step_id(raw: Any) -> str | None:
    if isinstance(raw, dict):
        value = raw.get("id")
        return value if isinstance(value, str) else None
    return None


def _apply_hooks(
    base_steps: list[Item], child_steps: list[Item], found: list[Diagnostic]
) -> list[Item]:
    """Edit the inherited step list with the child's hook entries; plain steps append."""
    steps = list(base_steps)
    used: set[tuple[str, str]] = set()
    for raw, position in child_steps:
        hooks = [key for key in HOOK_KEYS if isinstance(raw, dict) and key in raw]
        if not hooks:
            steps.append((raw, position))
            continue
        marks: Marks = raw.marks
        if len(hooks) > 1:
            found.append(
                Diagnostic(
                    ErrorType.VALIDATION_FAILED,
                    f"A step declares more than one hook operation ({', '.join(hooks)}); "
                    "each entry may declare only one",
                    marks.key(hooks[1]),
                    _step_id(raw),
                )
            )
            continue
        op = hooks[0]
        target = raw[op]
        ids = [_step_id(s) for s, _ in steps]
        if not isinstance(target, str) or target not in ids:
            valid = ", ".join(f"'{i}'" for i in ids if i is not None)
            found.append(
                Diagnostic(
                    ErrorType.VALIDATION_FAILED,
                    f"Hook operation '{op}: {target}' targets a step that does not exist in the "
                    f"inheritance chain. Valid step IDs: [{valid}]",
                    marks.value(op),
                    _step_id(raw),
                )
            )
            continue
        if (target, op) in used:
            found.append(
                Diagnostic(
                    ErrorType.VALIDATION_FAILED,
                    f"Hook operation '{op}: {target}' is declared more than once",
                    marks.value(op),
                    _step_id(raw),
                )
            )
            continue
        used.add((target, op))
        body = YamlMap(marks, {k: v for k, v in raw.items() if k != op})
        index = ids.index(target)
        if op == "disable":
            del steps[index]
        elif op == "override":
            body["id"] = target
            steps[index] = (body, position)
        elif op == "run_before":
            steps.insert(index, (body, position))
        else:
            steps.insert(index + 1, (body, position))
    return steps


def _load_document(
    path: Path, where: Position | None, chain: list[Path], found: list[Diagnostic]
) -> _Document | None:
    raw = _parse_file(path, where, found)
    if raw is None:
        return None
    steps = raw.get("pipeline")
    named = raw.get("pipelines")
    steps_list = _items(steps)
    named_map = dict(named) if isinstance(named, dict) else {}
    files = [path]
    base_ref = raw.get("FROM")
    if base_ref is None:
        return _Document(path, raw, steps_list, named_map, files, False)
    from_pos = raw.marks.value("FROM")
    if not isinstance(base_ref, str) or not base_ref.strip():
        found.append(
            Diagnostic(ErrorType.INVALID_YAML, f"Failed to parse '{path}': 'FROM' must be a path",
                       from_pos)
        )
        return _Document(path, raw, steps_list, named_map, files, False)
    base_path = resolve_path(base_ref.strip(), path.parent)
    resolved = Path(os.path.abspath(base_path))
    if any(os.path.abspath(p) == str(resolved) for p in [*chain, path]):
        cycle = " -> ".join(str(p) for p in [*chain, path, resolved])
        found.append(
            Diagnostic(
                ErrorType.CIRCULAR_INHERITANCE,
                f"circular inheritance detected: {cycle}",
                from_pos,
            )
        )
        return _Document(path, raw, steps_list, named_map, files, True)
    base = _load_document(resolved, from_pos, [*chain, path], found)
    if base is None:
        return _Document(path, raw, steps_list, named_map, files, True)
    merged = YamlMap(raw.marks, raw)
    if "version" not in raw and "version" in base.raw:
        merged["version"] = base.raw["version"]
        merged.marks = Marks(raw.marks.at, {**raw.marks.keys}, {**raw.marks.values})
        merged.marks.values["version"] = base.raw.marks.value("version")
    if "defaults" in base.raw:
        merged["defaults"] = _merge_maps(base.raw.get("defaults"), raw.get("defaults"),
                                         ("provider", "sampling"))
    steps_list = _apply_hooks(base.steps, steps_list, found)
    named_map = {**base.named, **named_map}
    return _Document(path, merged, steps_list, named_map, [*base.files, path], True)


def _items(value: Any) -> list[Item]:
    """A raw step list as (step, position) pairs."""
    if not isinstance(value, list):
        return []
    positions: list[Position | None] = list(value.marks.items) if isinstance(value, YamlSeq) else []
    positions += [None] * (len(value) - len(positions))
    return list(zip(value, positions, strict=True))


def load_pipeline(path: str | os.PathLike[str]) -> LoadResult:
    """Load a pipeline file and everything it inherits; collect every shape problem."""
    source = Path(os.path.abspath(path))
    found: list[Diagnostic] = []
    document = _load_document(source, None, [], found)
    if document is None:
        return LoadResult(None, found, [source])
    file_model, problems = read_model(PipelineFile, document.raw, "")
    found.extend(problems)
    if file_model is None:
        return LoadResult(None, found, document.files)
    before = len(found)
    steps = _read_steps(document.steps, found)
    has_steps_errors = len(found) > before or (
        "pipeline" in document.raw and not isinstance(document.raw["pipeline"], list | None)
    )
    named: dict[str, list[Step]] = {}
    named_pos: dict[str, Position] = {}
    named_raw = document.raw.get("pipelines")
    for name, raws in document.named.items():
        if isinstance(named_raw, YamlMap) and name in named_raw.marks.keys:
            named_pos[name] = named_raw.marks.keys[name]
        if not isinstance(raws, list):
            found.append(
                Diagnostic(
                    ErrorType.INVALID_YAML,
                    f"Named pipeline '{name}' must be a list of steps",
                    named_pos.get(name),
                )
            )
            continue
        named[name] = _read_steps(_items(raws), found)
    defaults = file_model.defaults or Defaults()
    pipeline = Pipeline(
        source=source,
        version=file_model.version,
        defaults=defaults,
        steps=steps,
        pipelines=named,
        files=document.files,
        has_from=document.has_from,
        version_pos=document.raw.marks.values.get("version"),
        pipeline_pos=document.raw.marks.keys.get("pipeline"),
        pipelines_pos=named_pos,
        document=file_model,
        has_steps_errors=has_steps_errors,
    )
    return LoadResult(pipeline, found, document.files)


def _read_steps(items: list[Item], found: list[Diagnostic]) -> list[Step]:
    steps: list[Step] = []
    for raw, position in items:
        if not isinstance(raw, dict):
            kind = "a list" if isinstance(raw, list) else "a scalar"
            found.append(
                Diagnostic(
                    ErrorType.INVALID_YAML,
                    f"Each step must be a mapping of fields (id, prompt, ...), not {kind}",
                    position,
                )
            )
            continue
        step_id = _step_id(raw)
        subject = f"Step '{step_id}'" if step_id else "A step"
        step, problems = read_model(Step, raw, subject, step_id)
        found.extend(problems)
        if step is not None:
            steps.append(step)
    return steps
