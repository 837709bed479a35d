"""Which pipeline to use when none is named (brief §1 "Discovery", in Rust ail's order).

1. the project's last-used pointer ``<ail home>/projects/<hash>/last_pipeline`` (an
   absolute path, written by Rust ail and by every run ail-tui starts from a file
   (:mod:`ail_tui.turnlog.last_pipeline`), with or without a newline after it; ignored
   when empty or stale);
2. the project marker ``.ail/default`` (a path relative to ``.ail/``);
3. the ``.ail/<sub>/*.yaml`` (or ``.yml``) files: exactly one is chosen, several are
   ambiguous (nothing is chosen), none fall through;
4. the user's ``~/.config/ail/default.yaml``.

Pure: reads a few small files and directory listings, never writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LAST_PIPELINE = "last_pipeline"
"""The pointer file in a project's state directory."""
MARKER = Path(".ail") / "default"
"""The project's default-pipeline marker, relative to the working directory."""
USER_DEFAULT = Path(".config") / "ail" / "default.yaml"
"""The user's default pipeline, relative to the home directory."""
_YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Discovery:
    """What discovery found.

    ``path`` is the pipeline to use (None when there is none or several). ``looked`` are
    the places tried, in order, for telling the user where nothing was found;
    ``candidates`` are the ``.ail/<sub>/`` pipelines when there is more than one.
    """

    path: Path | None
    looked: tuple[Path, ...]
    candidates: tuple[Path, ...] = ()

    @property
    def ambiguous(self) -> bool:
        """Whether several pipelines were found and none is preferred."""
        return self.path is None and len(self.candidates) > 1

    def explain(self) -> str:
        """Why no pipeline was chosen, in a sentence (and the candidates, one a line)."""
        if self.ambiguous:
            return ("several pipelines in .ail/ and none is the default: name one, or write "
                    "its path relative to .ail/ into .ail/default\n"
                    + "".join(f"  {path}\n" for path in self.candidates))
        return "no pipeline found; looked at " + ", ".join(map(str, self.looked)) + "\n"


def _pointed_file(pointer: Path, base: Path) -> Path | None:
    """The existing file that ``pointer``'s first line names (relative to ``base``),
    surrounding blanks and the line's end left out."""
    try:
        lines = pointer.read_bytes().strip().splitlines()
    except OSError:
        return None
    text = os.fsdecode(lines[0].strip()) if lines else ""
    if not text:
        return None
    target = base / text
    return target if target.is_file() else None


def _subdir_pipelines(ail_dir: Path) -> list[Path]:
    """``.ail/<sub>/*.yaml|yml`` files (depth 2 only: deeper ones are sub-pipelines)."""
    try:
        subdirs = sorted(p for p in ail_dir.iterdir() if p.is_dir())
    except OSError:
        return []
    found: list[Path] = []
    for sub in subdirs:
        try:
            files = sorted(sub.iterdir())
        except OSError:
            continue
        found += [f for f in files if f.suffix in _YAML_SUFFIXES and f.is_file()]
    return found


def discover_pipeline(cwd: Path, home: Path, project_dir: Path) -> Discovery:
    """Find the pipeline for ``cwd``; ``project_dir`` is the project's state directory
    (``<ail home>/projects/<hash>``) and ``home`` the user's home directory."""
    pointer = project_dir / LAST_PIPELINE
    marker = cwd / MARKER
    subdirs = cwd / ".ail" / "*" / "*.yaml"
    user_default = home / USER_DEFAULT
    looked = (pointer, marker, subdirs, user_default)
    last = _pointed_file(pointer, cwd)
    if last is not None:
        return Discovery(last, looked[:1])
    chosen = _pointed_file(marker, marker.parent)
    if chosen is not None:
        return Discovery(chosen, looked[:2])
    candidates = _subdir_pipelines(cwd / ".ail")
    if len(candidates) == 1:
        return Discovery(candidates[0], looked[:3])
    if candidates:
        return Discovery(None, looked[:3], tuple(candidates))
    if user_default.is_file():
        return Discovery(user_default, looked)
    return Discovery(None, looked)
