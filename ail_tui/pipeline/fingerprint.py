"""Content hashes of a pipeline file and of each step's definition (decisions D2).

:func:`pipeline_hash` is the full sha256 hex digest (64 characters) of the file's bytes,
what ``sha256sum`` prints, recorded once per run.

:func:`step_fingerprints` gives every top-level step with an id the first
:data:`FINGERPRINT_CHARS` hex characters of a sha256 over a canonical JSON form of:

- the step itself: every field written in the file (``model_dump`` by alias, unset
  fields left out, so writing ``async: false`` counts as an edit), nested steps of
  chains and loop bodies included; unknown keys, which the engine ignores (L4), and
  source positions are not part of it;
- ``defaults:``, except ``max_concurrency`` (scheduling only) and
  ``provider.auth_token`` (a credential, not a definition);
- the named ``pipelines:`` the step can call, directly or through other named
  pipelines, chain entries, loop bodies;
- the content hash of every file the step reads by a plain (untemplated) path: prompt
  and system_prompt files, chain prompt files, append_system_prompt ``file:`` entries,
  sub-pipeline files, loop ``pipeline:`` files, on_result ``pipeline:`` targets. A
  pipeline file's hash also covers its ``FROM`` bases and, recursively, the files its
  own steps read. Files are read with the limits of :mod:`ail_tui.files` (a FIFO or
  device is never opened); one that cannot be read counts as ``"unreadable"``.

So reformatting the file, reordering keys, comments or editing another step leave a
fingerprint unchanged; changing any of the above changes it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ail_tui.files import MAX_PIPELINE_BYTES, MAX_REFERENCED_BYTES, FileReadError, read_file_bytes
from ail_tui.pipeline.loader import Pipeline, is_file_reference, load_pipeline, resolve_path
from ail_tui.pipeline.models import AppendPrompt, Node, ResultBranch, ResultSwitch, Step

FINGERPRINT_CHARS = 16
"""Hex characters kept of a step fingerprint (64 bits: ample to tell two versions of
one step apart, short enough to record every step in ``run_started``)."""

UNREADABLE = "unreadable"
"""What a referenced file that cannot be read contributes."""

_DEFAULTS_LEFT_OUT: dict[str, Any] = {"max_concurrency": True, "provider": {"auth_token": True}}


def pipeline_hash(source: str | bytes | os.PathLike[str]) -> str:
    """The sha256 hex digest of a pipeline file's bytes.

    A path (``os.PathLike``) is read as a pipeline file is (a regular file of at most
    ``MAX_PIPELINE_BYTES``; else :class:`~ail_tui.files.FileReadError`); ``bytes`` are
    hashed as they are; a ``str`` is the pipeline's *text*, hashed as UTF-8.
    """
    if isinstance(source, str):
        data = source.encode("utf-8")
    elif isinstance(source, bytes):
        data = source
    else:
        data = read_file_bytes(source, MAX_PIPELINE_BYTES, "pipeline files")
    return hashlib.sha256(data).hexdigest()


def step_definitions(pipeline: Pipeline, cwd: str | os.PathLike[str] | None = None
                     ) -> tuple[dict[str, str], str]:
    """:func:`step_fingerprints` and :func:`files_hash` from one walk of the steps."""
    walk = _Walk.top(pipeline, cwd)
    defaults = dump_node(pipeline.defaults, _DEFAULTS_LEFT_OUT)
    if defaults.get("provider") == {}:  # it held only what is left out
        del defaults["provider"]
    shared = _ENCODER.encode(defaults)  # the same for every step: encoded once
    found: dict[str, str] = {}
    reached: list[dict[str, str]] = []
    for step in pipeline.steps:
        named, files = walk.reach(step)
        reached.append(files)
        if step.id is None or step.id in found:
            continue
        payload = {"step": dump_node(step), "defaults": shared, "pipelines": named,
                   "files": files}
        found[step.id] = _digest(payload)[:FINGERPRINT_CHARS]
    return found, _files_digest(walk, reached)


def step_fingerprints(pipeline: Pipeline,
                      cwd: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Each top-level step id → the hash of its definition (see the module docstring).

    ``cwd`` is the run's working directory, which sub-pipeline paths not starting with
    ``./`` or ``../`` and append_system_prompt files are relative to (default: this
    process's). When an id appears twice, the first step has it.
    """
    return step_definitions(pipeline, cwd)[0]


def files_hash(pipeline: Pipeline, cwd: str | os.PathLike[str] | None = None) -> str:
    """One hash of every file the pipeline's steps read by a plain path (the part of
    :func:`step_fingerprints` that is not in the pipeline file). With the pipeline file's
    own hash it tells, cheaply, whether any fingerprint can have changed."""
    walk = _Walk.top(pipeline, cwd)
    return _files_digest(walk, [walk.reach(step)[1] for step in pipeline.steps])


def _files_digest(walk: _Walk, reached: list[dict[str, str]]) -> str:
    """The hash of the FROM bases ``walk``'s pipeline was merged from and of the files
    each of its steps reaches (``reached``, in step order)."""
    pipeline = walk.pipeline
    files: dict[str, dict[str, str]] = {"FROM": {
        f"FROM:{inherited}": walk.file_digest(Path(inherited), pipeline=False)
        for inherited in pipeline.files if Path(inherited) != Path(pipeline.source)}}
    files.update((str(index), found) for index, found in enumerate(reached) if found)
    return _digest(files)[:FINGERPRINT_CHARS]


def dump_node(node: Node, left_out: dict[str, Any] | None = None) -> Any:
    """``node``'s written fields as JSON data: by alias, without unknown keys or marks."""
    if left_out is None:
        flat = _flat_dump(node)
        if flat is not None:
            return flat
    exclude = _merge(_unknown_keys(node), left_out or {})
    return node.model_dump(mode="json", by_alias=True, exclude_unset=True,
                           exclude=exclude or None)


_DUMPED_AS_THEMSELVES = frozenset({str, bool, int, type(None)})


def _flat_dump(node: Node) -> dict[str, Any] | None:
    """``node``'s dump made without pydantic when it has no unknown keys and every
    written value is a plain ``str``, ``bool``, ``int`` or ``None`` (what
    ``model_dump(mode="json")`` returns unchanged); else None."""
    if node.model_extra:
        return None
    aliases = _aliases(type(node))
    values = node.__dict__
    dumped: dict[str, Any] = {}
    for name in node.model_fields_set:
        value = values[name]
        if type(value) not in _DUMPED_AS_THEMSELVES:
            return None
        dumped[aliases[name]] = value
    return dumped


@cache
def _aliases(model: type[Node]) -> dict[str, str]:
    """Each field of ``model`` → the key it is dumped under by alias."""
    return {name: info.serialization_alias or name for name, info in model.model_fields.items()}


def _unknown_keys(node: Node) -> dict[Any, Any]:
    """A ``model_dump`` exclude spec naming every unknown key in ``node`` and below."""
    spec: dict[Any, Any] = dict.fromkeys(node.model_extra or (), True)
    for name in node.model_fields_set:
        value = getattr(node, name)
        if isinstance(value, Node):
            inner = _unknown_keys(value)
            if inner:
                spec[name] = inner
        elif isinstance(value, list):
            items = {i: _unknown_keys(v) for i, v in enumerate(value) if isinstance(v, Node)}
            items = {i: v for i, v in items.items() if v}
            if items:
                spec[name] = items
    return spec


def _merge(a: dict[Any, Any], b: dict[Any, Any]) -> dict[Any, Any]:
    merged = dict(a)
    for key, value in b.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            value = _merge(old, value)
        merged[key] = value
    return merged


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(payload: Any) -> str:
    return hashlib.sha256(_ENCODER.encode(payload).encode("utf-8")).hexdigest()


def _plain(text: str | None) -> bool:
    """Whether ``text`` is a path as written (not empty, no template to render first)."""
    return text is not None and text.strip() != "" and "{{" not in text


_REACHING = frozenset({"system_prompt", "append_system_prompt", "pipeline", "on_result",
                       "before", "then", "do_while", "for_each"})
"""The step fields besides ``prompt`` through which a step reads files or named pipelines
(a field not written holds None)."""


@dataclass
class _Walk:
    """What steps can reach: named pipelines (dumped) and files (hashed)."""

    pipeline: Pipeline
    cwd: Path
    open_files: frozenset[Path]
    cache: dict[tuple[Path, frozenset[Path]], str]
    """Pipeline file digests by (path, files open around it): each file is read once."""
    named: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    dumps: dict[str, list[Any]] = field(default_factory=dict)
    """Named pipelines already dumped, by name: each is dumped once."""

    @classmethod
    def top(cls, pipeline: Pipeline, cwd: str | os.PathLike[str] | None) -> _Walk:
        """A walk of ``pipeline``'s own steps run in ``cwd`` (None: this process's)."""
        base = Path(cwd) if cwd is not None else Path.cwd()
        return cls(pipeline, base, frozenset({pipeline.source}), {})

    def reach(self, step: Step) -> tuple[dict[str, Any], dict[str, str]]:
        """The named pipelines and the files ``step`` reaches on its own."""
        self.named, self.files = {}, {}
        self.step(step)
        return self.named, self.files

    def steps(self, steps: list[Step]) -> None:
        for step in steps:
            self.step(step)

    def step(self, step: Step) -> None:
        self._prompt_file("prompt", step.prompt)
        if _REACHING.isdisjoint(step.model_fields_set):  # the common plain prompt step
            return
        self._prompt_file("system_prompt", step.system_prompt)
        for item in step.append_system_prompt or ():
            file = item.file if isinstance(item, AppendPrompt) else None
            if file is not None and _plain(file):
                self._file(f"append_system_prompt:{file}",
                           self.cwd / os.path.expanduser(file), pipeline=False)
        if step.pipeline is not None:
            if step.pipeline in self.pipeline.pipelines:
                self._named(step.pipeline)
            else:
                self._child(f"pipeline:{step.pipeline}", step.pipeline)
        for target in _result_pipelines(step):
            self._child(f"on_result:{target}", target)
        for entry in (step.before or []) + (step.then or []):
            if isinstance(entry, Step):
                self.step(entry)
            else:
                self._prompt_file("chain", entry)
        for loop in (step.do_while, step.for_each):
            if loop is None:
                continue
            if loop.steps is not None:
                self.steps(loop.steps)
            elif loop.pipeline is not None and _plain(loop.pipeline):
                path = Path(os.path.expanduser(loop.pipeline))
                self._file(f"loop:{loop.pipeline}",
                           path if path.is_absolute() else self.pipeline.directory / path,
                           pipeline=True)

    def _prompt_file(self, what: str, text: str | None) -> None:
        if text is not None and is_file_reference(text) and _plain(text):
            self._file(f"{what}:{text}", resolve_path(text, self.pipeline.directory),
                       pipeline=False)

    def _named(self, name: str) -> None:
        if name in self.named:
            return
        steps = self.pipeline.pipelines[name]
        if name not in self.dumps:
            self.dumps[name] = [dump_node(step) for step in steps]
        self.named[name] = self.dumps[name]
        self.steps(steps)

    def _child(self, key: str, text: str) -> None:
        """A sub-pipeline file, resolved as the engine does (``./``, ``../``: the
        pipeline's directory; anything else: the working directory)."""
        if not _plain(text):
            return
        base = self.pipeline.directory if text.startswith(("./", "../")) else self.cwd
        self._file(key, base / text, pipeline=True)

    def _file(self, key: str, path: Path, pipeline: bool) -> None:
        self.files[key] = self.file_digest(path, pipeline)

    def file_digest(self, path: Path, pipeline: bool) -> str:
        """``path``'s hash, read with the limits it is read with (never a FIFO or device)."""
        path = Path(os.path.abspath(path))
        if pipeline:
            return self._pipeline_file(path)
        try:
            data = read_file_bytes(path, MAX_REFERENCED_BYTES, "files referenced by a pipeline")
        except FileReadError:
            return UNREADABLE
        return hashlib.sha256(data).hexdigest()

    def _pipeline_file(self, path: Path) -> str:
        """A pipeline file's content hash with those of the files it reaches."""
        key = (path, self.open_files)
        if key not in self.cache:
            try:
                digest = pipeline_hash(path)
            except FileReadError:
                digest = UNREADABLE
            if digest != UNREADABLE and path not in self.open_files:
                digest = _digest([digest, self._pipeline_file_refs(path)])
            self.cache[key] = digest
        return self.cache[key]

    def _pipeline_file_refs(self, path: Path) -> dict[str, str]:
        """The hashes of the files a pipeline file inherits from or its steps read."""
        loaded = load_pipeline(path)
        child = loaded.pipeline
        if child is None:
            return {}
        walk = _Walk(child, self.cwd, self.open_files | {path}, self.cache)
        walk.steps([*child.steps, *(s for steps in child.pipelines.values() for s in steps)])
        for base in loaded.files:
            if Path(base) != path:
                key = f"FROM:{os.path.relpath(base, path.parent)}"
                walk._file(key, Path(base), pipeline=False)
        return walk.files


def _result_pipelines(step: Step) -> list[str]:
    """The targets of the step's ``on_result`` ``pipeline:`` actions."""
    result = step.on_result
    arms: list[ResultBranch] | list[Any] = []
    if isinstance(result, list):
        arms = result
    elif isinstance(result, ResultSwitch):
        arms = [result.if_true, result.if_false]
    targets: list[str] = []
    for arm in arms:
        action = getattr(arm, "action", None)
        if isinstance(action, str) and action.startswith("pipeline:"):
            targets.append(action[len("pipeline:"):].strip())
    return targets
