"""What a run knows while it runs: its entries, and how template variables resolve."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ail_tui.pipeline.templates import (
    UnresolvedVariable,
    VariableKind,
    env_value,
    parse_template,
    parse_variable,
    render,
)
from ail_tui.turnlog.entry import TurnEntry


@dataclass(frozen=True)
class LoopFrame:
    """One enclosing loop iteration."""

    kind: str  # "do_while" | "for_each"
    step_id: str
    counter: int  # do_while: 0-based iteration; for_each: 1-based index
    limit: int  # do_while: max_iterations; for_each: total items
    item: Any = None
    item_name: str | None = None


@dataclass(frozen=True)
class Scope:
    """Where a template is rendered: enclosing loops and the step's runner name."""

    loops: tuple[LoopFrame, ...] = ()
    runner_name: str = "claude"

    @property
    def prefixes(self) -> list[str]:
        """Id prefixes of the enclosing loops, innermost first (``outer::inner::``)."""
        out: list[str] = []
        path = ""
        for frame in self.loops:
            path += f"{frame.step_id}::"
            out.append(path)
        return out[::-1]

    @property
    def iteration(self) -> tuple[int, ...]:
        """The 1-based iteration of each enclosing loop, outermost first."""
        if not self.loops:
            return ()
        return tuple(f.counter + 1 if f.kind == "do_while" else f.counter for f in self.loops)

    def inside(self, frame: LoopFrame) -> Scope:
        """This scope, one loop deeper."""
        return Scope((*self.loops, frame), self.runner_name)

    def with_runner(self, name: str) -> Scope:
        """This scope for a step that uses runner ``name``."""
        return self if name == self.runner_name else Scope(self.loops, name)


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class RunState:
    """The entries of a run and the values its templates read. Thread-safe."""

    def __init__(self, run_id: str, invocation_prompt: str | None, cwd: str,
                 env: dict[str, str] | None = None) -> None:
        self.run_id = run_id
        self.invocation_prompt = invocation_prompt
        self.cwd = cwd
        self.env = dict(os.environ) if env is None else env
        self._entries: list[TurnEntry] = []
        self._lock = threading.Lock()

    def append(self, entry: TurnEntry) -> None:
        """Record a completed step."""
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[TurnEntry]:
        """A snapshot of the entries, oldest first."""
        with self._lock:
            return list(self._entries)

    def drop_prefix(self, prefix: str) -> None:
        """Forget in-memory entries of a loop's previous iteration (the log keeps them)."""
        with self._lock:
            self._entries = [e for e in self._entries if not e.step_id.startswith(prefix)]

    def find(self, step_id: str) -> TurnEntry | None:
        """The first entry recorded under ``step_id``."""
        with self._lock:
            return next((e for e in self._entries if e.step_id == step_id), None)

    def last_response(self) -> str | None:
        """The newest non-null response."""
        with self._lock:
            for entry in reversed(self._entries):
                if entry.response is not None:
                    return entry.response
            return None

    def last_session_id(self) -> str | None:
        """The newest runner session id (``resume: true``)."""
        with self._lock:
            return next((e.runner_session_id for e in reversed(self._entries)
                         if e.runner_session_id), None)

    # -- templates -------------------------------------------------------------------

    def render(self, text: str, scope: Scope) -> str:
        """Render a template; raise ``UnresolvedVariable`` or ``TemplateSyntaxError``."""
        if "{{" not in text:
            return text  # nothing to substitute (and nothing to remember the parse of)
        return render(parse_template(text), lambda name: self.resolve(name, scope))

    def renderer(self, scope: Scope) -> Callable[[str], str]:
        """A one-argument renderer for conditions."""
        return lambda text: self.render(text, scope)

    def resolve(self, name: str, scope: Scope) -> str:
        """The value of one template variable (brief §4)."""
        ref = parse_variable(name)
        kind = ref.kind
        if kind is VariableKind.INVOCATION_PROMPT:
            if self.invocation_prompt is None:
                raise UnresolvedVariable(
                    "No invocation prompt was given: pass --prompt (or type one in the "
                    "dashboard) to use {{ step.invocation.prompt }}"
                )
            return self.invocation_prompt
        if kind is VariableKind.LAST_RESPONSE:
            value = self.last_response()
            if value is None:
                raise UnresolvedVariable("No response recorded yet for {{ last_response }}")
            return value
        if kind is VariableKind.SESSION_TOOL:
            return scope.runner_name
        if kind is VariableKind.SESSION_CWD:
            return self.cwd
        if kind is VariableKind.PIPELINE_RUN_ID:
            return self.run_id
        if kind is VariableKind.ENV:
            assert ref.env_name is not None
            return env_value(self.env, ref.env_name)
        if kind is VariableKind.DO_WHILE or kind is VariableKind.FOR_EACH:
            return self._loop_value(kind, ref.field or "", name, scope)
        if kind is VariableKind.INVOCATION_RESPONSE:
            entry = self.find("invocation")
            if entry is None or entry.response is None:
                raise UnresolvedVariable("No response recorded for step 'invocation'")
            return entry.response
        if kind is VariableKind.STEP and ref.step_id is not None:
            return self._step_value(ref.step_id, ref.field, ref.path, name, scope)
        raise UnresolvedVariable(ref.problem or f"'{{ {name} }}' is not a recognised template "
                                 "variable")

    def _loop_value(self, kind: VariableKind, field: str, name: str, scope: Scope) -> str:
        frames = [f for f in reversed(scope.loops) if f.kind == kind.value]
        if not frames:
            raise UnresolvedVariable(f"'{{{{ {name} }}}}' is only available inside a "
                                     f"{kind.value} loop")
        frame = frames[0]
        if kind is VariableKind.DO_WHILE:
            return str(frame.counter if field == "iteration" else frame.limit)
        if field == "index":
            return str(frame.counter)
        if field == "total":
            return str(frame.limit)
        if field == "item" or field == frame.item_name:
            return _json_text(frame.item)
        raise UnresolvedVariable(f"'{{{{ {name} }}}}' is not a for_each variable")

    def _lookup(self, step_id: str, scope: Scope) -> TurnEntry | None:
        for prefix in scope.prefixes:
            entry = self.find(prefix + step_id)
            if entry is not None:
                return entry
        return self.find(step_id)

    def _step_value(self, step_id: str, field: str | None, path: tuple[str, ...], name: str,
                    scope: Scope) -> str:
        entry = self._lookup(step_id, scope)
        if entry is None:
            raise UnresolvedVariable(f"No response recorded for step '{step_id}'")
        if field is None:
            return self._json_path(entry, path, name)
        value: Any
        if field == "response":
            value = entry.response
        elif field == "result":
            value = entry.result
        elif field in ("stdout", "stderr", "modified"):
            value = getattr(entry, field)
        elif field == "exit_code":
            value = None if entry.exit_code is None else str(entry.exit_code)
        elif field == "index":
            value = None if entry.index is None else str(entry.index)
        elif field == "tool_calls":
            value = _json_text(entry.tool_events)
        else:  # items
            try:
                items = json.loads(entry.response or "")
            except ValueError:
                items = None
            if not isinstance(items, list):
                raise UnresolvedVariable(f"Step '{step_id}' response is not a JSON array, so "
                                         f"{{{{ {name} }}}} has no items")
            value = _json_text(items)
        if value is None:
            raise UnresolvedVariable(f"Step '{step_id}' recorded no {field}")
        return str(value)

    def _json_path(self, entry: TurnEntry, path: tuple[str, ...], name: str) -> str:
        try:
            value: Any = json.loads(entry.response or "")
        except ValueError:
            raise UnresolvedVariable(
                f"Step '{entry.step_id}' response is not JSON, so {{{{ {name} }}}} cannot be "
                "read from it"
            ) from None
        for key in path:
            if not isinstance(value, dict) or key not in value:
                raise UnresolvedVariable(f"'{{{{ {name} }}}}': no key '{key}' in step "
                                         f"'{entry.step_id}' response")
            value = value[key]
        return _json_text(value)
