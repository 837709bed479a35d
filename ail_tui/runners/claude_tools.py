"""The tool events of one claude CLI run: calls, results, sub-agent text, denials.

Each event is recorded for the turn log (``event_type``, ``tool_name``, ``tool_id``,
``content_json``, ``seq`` as Rust writes them; ``parent_tool_id``, ``is_error`` and
``denied`` only when set) and emitted live as a runner event.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from ail_tui.runners.base import RunnerEventSink

SUMMARY_CHARS = 60
"""How much of a denied tool's input its warning quotes."""
_SUMMARY_KEYS = ("command", "file_path", "path", "pattern", "url", "query")


def compact_json(value: Any) -> str:
    """``value`` as compact JSON, non-ASCII kept as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _parent(parent: str | None) -> dict[str, str]:
    return {"parent_tool_id": parent} if parent else {}


def tool_summary(name: str, payload: Any) -> str:
    """``Bash(rm -rf x)``: a tool and the gist of its input."""
    gist = ""
    if isinstance(payload, dict):
        gist = next((str(payload[key]) for key in _SUMMARY_KEYS if key in payload), "")
        gist = gist or compact_json(payload)
    elif payload is not None:
        gist = compact_json(payload)
    gist = " ".join(gist.split())
    if len(gist) > SUMMARY_CHARS:
        gist = gist[: SUMMARY_CHARS - 1] + "…"
    return f"{name}({gist})"


class ToolEvents:
    """Records tool events in order and emits each as a runner event."""

    def __init__(self, emit: RunnerEventSink, denied_by_person: Collection[str] = ()) -> None:
        self._emit = emit
        self._denied_by_person = denied_by_person
        self.events: list[dict[str, Any]] = []
        self._calls: dict[str, dict[str, Any]] = {}

    def _record(self, event_type: str, name: str, tool_id: str, content: str,
                extra: dict[str, Any]) -> dict[str, Any]:
        event = {"event_type": event_type, "tool_name": name, "tool_id": tool_id,
                 "content_json": content, "seq": len(self.events), **extra}
        self.events.append(event)
        return event

    def call(self, block: dict[str, Any], parent: str | None) -> None:
        """A ``tool_use`` block."""
        name = str(block.get("name") or "")
        tool_id = str(block.get("id") or "")
        payload = block.get("input")
        arguments = "{}" if payload is None else compact_json(payload)
        self._calls[tool_id] = self._record("tool_call", name, tool_id, arguments,
                                            _parent(parent))
        self._emit({"type": "tool_use", "tool_name": name, "tool_id": tool_id,
                    "input": arguments, **_parent(parent)})

    def result(self, block: dict[str, Any], parent: str | None) -> None:
        """A ``tool_result`` block (``is_error`` marks a failed or refused tool)."""
        tool_id = str(block.get("tool_use_id") or "")
        content = block.get("content")
        text = content if isinstance(content, str) else compact_json(content)
        extra: dict[str, Any] = {"is_error": True} if block.get("is_error") is True else {}
        extra.update(_parent(parent))
        self._record("tool_result", "", tool_id, text, extra)
        self._emit({"type": "tool_result", "tool_id": tool_id, "content": text, **extra})

    def subagent_text(self, text: str, parent: str) -> None:
        """Text a sub-agent wrote: it belongs under its parent tool call, not the step's."""
        self._record("subagent_text", "", "", text, {"parent_tool_id": parent})
        self._emit({"type": "subagent_text", "parent_tool_id": parent, "text": text})

    def deny(self, tool_id: Any) -> None:
        """Marks the call ``tool_id`` as denied by the CLI (``system/permission_denied``)."""
        call = self._calls.get(str(tool_id or ""))
        if call is not None:
            call["denied"] = True

    def denied(self, denials: Any) -> None:
        """``result.permission_denials``: marks each call and warns once, naming them.

        Calls the person denied in the dashboard are marked but not warned about.
        """
        if not isinstance(denials, list):
            return
        names: list[str] = []
        summaries: list[str] = []
        for denial in denials:
            if not isinstance(denial, dict):
                continue
            name = str(denial.get("tool_name") or "?")
            self.deny(denial.get("tool_use_id"))
            if denial.get("tool_use_id") in self._denied_by_person:
                continue
            summaries.append(tool_summary(name, denial.get("tool_input")))
            if name not in names:
                names.append(name)
        if summaries:
            self._emit({"type": "warning", "message": (
                f"claude denied {', '.join(summaries)}: allow "
                f"{'it' if len(summaries) == 1 else 'them'} with "
                f"tools: {{allow: [{', '.join(names)}]}}")})
