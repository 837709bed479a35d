"""The person's own settings: ``config.toml`` in the platform's config folder.

``$XDG_CONFIG_HOME/ail-tui/config.toml`` (default ``~/.config/ail-tui/config.toml``;
``AIL_TUI_CONFIG`` names another file)::

    theme = "nord"              # any Textual theme; the dashboard keeps the one chosen
    default_pane = "output"     # timeline, output, details, events, problems or plan
    summary_on_end = true       # the run's summary opens on its own when a run ends

    [keymap]                    # a binding's id (see ? in the dashboard) = its keys
    "app.run" = "ctrl+r"
    "app.cancel_step" = "x,delete"

A setting that cannot be used is reported with its line and left out; the others apply.
Nothing here imports Textual: the dashboard passes what it knows (binding ids, themes).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PANES = ("timeline", "output", "details", "events", "problems", "plan")
"""What ``default_pane`` may name: the dashboard's right-hand panes."""
_KEY = re.compile(r"^[A-Za-z0-9_+\-]+$")
"""One key as Textual writes it (``ctrl+r``, ``question_mark``, ``f5``, ``x``)."""


def config_path() -> Path:
    """Where the settings are read from (the file need not exist)."""
    named = os.environ.get("AIL_TUI_CONFIG")
    if named:
        return Path(named).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ail-tui" / "config.toml"


@dataclass(frozen=True)
class Settings:
    """The settings in effect, and what could not be used (``file:line: why``)."""

    path: Path
    theme: str | None = None
    default_pane: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    summary_on_end: bool = True

    def toml(self) -> str:
        """The settings in effect, as the file would say them (``--print-config``)."""
        lines = [f"# {self.path}" + ("" if self.path.exists() else " (no such file: defaults)")]
        lines.append(f"theme = {_quoted(self.theme)}" if self.theme
                     else "# theme: the default")
        lines.append(f"default_pane = {_quoted(self.default_pane)}" if self.default_pane
                     else "# default_pane: timeline")
        lines.append(f"summary_on_end = {str(self.summary_on_end).lower()}")
        lines.append("")
        lines.append("[keymap]" + ("" if self.keymap else "  # every key as shipped"))
        lines.extend(f"{_quoted(ident)} = {_quoted(keys)}"
                     for ident, keys in sorted(self.keymap.items()))
        lines.extend(f"# not used: {problem}" for problem in self.problems)
        return "\n".join(lines) + "\n"


def load_settings(bindings: Collection[str], themes: Collection[str],
                  path: Path | None = None) -> Settings:
    """Read the settings; ``bindings`` and ``themes`` are the ids and names that exist."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(path)
    except (OSError, UnicodeDecodeError) as error:
        return Settings(path, problems=(f"{path}: cannot be read: {error}",))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:  # its message ends "(at line L, column C)"
        return Settings(path, problems=(f"{path}: not TOML: {error}",))
    found = _Found(path, text)
    theme = found.text(data, "theme", lambda value: value in themes,
                       f"not a theme (one of: {', '.join(sorted(themes))})")
    pane = found.text(data, "default_pane", lambda value: value in PANES,
                      f"not a pane (one of: {', '.join(PANES)})")
    summary_on_end = data.get("summary_on_end", True)
    if not isinstance(summary_on_end, bool):
        found.bad("summary_on_end", f"{summary_on_end!r} is not true or false")
        summary_on_end = True
    keymap: dict[str, str] = {}
    table = data.get("keymap", {})
    if not isinstance(table, dict):
        found.bad("keymap", "must be a table: [keymap]")
        table = {}
    for ident, keys in table.items():
        if ident not in bindings:
            found.bad(ident, f"no binding has the id {ident!r} (ids: press ? in the "
                             "dashboard)", table="keymap")
        elif not isinstance(keys, str) or not all(
                _KEY.match(key.strip()) for key in keys.split(",")):
            found.bad(ident, f"{keys!r} is not a key or keys (like \"ctrl+r\" or \"x,delete\")",
                      table="keymap")
        else:
            keymap[ident] = ",".join(key.strip() for key in keys.split(","))
    for name in data:
        if name not in ("theme", "default_pane", "summary_on_end", "keymap"):
            found.bad(name, "not a setting (theme, default_pane, summary_on_end, [keymap])")
    return Settings(path, theme, pane, keymap, tuple(found.problems),
                    summary_on_end=summary_on_end)


def save_theme(theme: str, path: Path | None = None) -> None:
    """Keep ``theme`` in the settings file, leaving everything else in it as it is."""
    path = path or config_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    line = f"theme = {_quoted(theme)}"
    for index, text in enumerate(lines):
        if text.startswith("["):
            lines.insert(index, line)  # before the first table: a top-level key
            break
        if re.match(r"^\s*theme\s*=", text):
            lines[index] = line
            break
    else:
        lines.append(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(partial, path)


def _quoted(text: str | None) -> str:
    return '"' + (text or "").replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Found:
    """Checks values and words each problem with the line it is on."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.problems: list[str] = []

    def text(self, data: dict[str, Any], name: str, fits: Any, why: str) -> str | None:
        value = data.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not fits(value):
            self.bad(name, f"{value!r} is {why}")
            return None
        return value

    def bad(self, name: str, why: str, table: str | None = None) -> None:
        self.problems.append(f"{self.path}:{self._line(name, table)}: {name}: {why}")

    def _line(self, name: str, table: str | None) -> int:
        """The first line that sets ``name`` (in ``[table]`` when given); 1 if unseen."""
        pattern = re.compile(r'^\s*["\']?' + re.escape(name) + r'["\']?\s*=')
        current: str | None = None  # the table the line is in (None: the top level)
        for number, line in enumerate(self.lines, 1):
            stripped = line.strip()
            if stripped.startswith("["):
                current = stripped.strip("[]").strip()
                if table is None and current == name:
                    return number
            elif current == table and pattern.match(line):
                return number
        return 1
