"""Pipeline discovery when none is named: the order of brief §1 (Rust ail's)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ail_tui.pipeline.discovery import discover_pipeline

PIPELINE = 'version: "0.1"\npipeline:\n  - id: x\n    prompt: hi\n'


@dataclass(frozen=True)
class Case:
    """Files to create (``{cwd}``/``{home}``/``{project}`` placeholders) and the expected
    result: a path, ``None`` (nothing), or ``"ambiguous"``."""

    name: str
    files: dict[str, str]
    expected: str | None


CASES = [
    Case("nothing anywhere", {}, None),
    Case("user default only", {"{home}/.config/ail/default.yaml": PIPELINE},
         "{home}/.config/ail/default.yaml"),
    Case("one .ail/<sub> pipeline beats the user default",
         {"{cwd}/.ail/starter/default.yaml": PIPELINE,
          "{home}/.config/ail/default.yaml": PIPELINE},
         "{cwd}/.ail/starter/default.yaml"),
    Case(".yml counts too", {"{cwd}/.ail/s/review.yml": PIPELINE}, "{cwd}/.ail/s/review.yml"),
    Case("files deeper than .ail/<sub>/ are sub-pipelines, not entry points",
         {"{cwd}/.ail/s/one.ail.yaml": PIPELINE, "{cwd}/.ail/s/agents/deep.ail.yaml": PIPELINE},
         "{cwd}/.ail/s/one.ail.yaml"),
    Case("a file directly in .ail/ is not a candidate",
         {"{cwd}/.ail/top.yaml": PIPELINE, "{home}/.config/ail/default.yaml": PIPELINE},
         "{home}/.config/ail/default.yaml"),
    Case("several .ail/<sub> pipelines are ambiguous (no user default then)",
         {"{cwd}/.ail/a/default.yaml": PIPELINE, "{cwd}/.ail/b/other.ail.yaml": PIPELINE,
          "{home}/.config/ail/default.yaml": PIPELINE},
         "ambiguous"),
    Case("the .ail/default marker settles an ambiguity",
         {"{cwd}/.ail/a/default.yaml": PIPELINE, "{cwd}/.ail/b/other.ail.yaml": PIPELINE,
          "{cwd}/.ail/default": "  b/other.ail.yaml\n"},
         "{cwd}/.ail/b/other.ail.yaml"),
    Case("a marker naming a missing file is ignored",
         {"{cwd}/.ail/default": "gone.yaml", "{cwd}/.ail/a/default.yaml": PIPELINE},
         "{cwd}/.ail/a/default.yaml"),
    Case("an empty marker is ignored",
         {"{cwd}/.ail/default": "\n", "{home}/.config/ail/default.yaml": PIPELINE},
         "{home}/.config/ail/default.yaml"),
    Case("the last-used pointer comes first",
         {"{project}/last_pipeline": "{cwd}/elsewhere/last.ail.yaml",
          "{cwd}/elsewhere/last.ail.yaml": PIPELINE,
          "{cwd}/.ail/default": "a/default.yaml", "{cwd}/.ail/a/default.yaml": PIPELINE},
         "{cwd}/elsewhere/last.ail.yaml"),
    Case("a stale last-used pointer is ignored",
         {"{project}/last_pipeline": "{cwd}/deleted.ail.yaml",
          "{cwd}/.ail/default": "a/default.yaml", "{cwd}/.ail/a/default.yaml": PIPELINE},
         "{cwd}/.ail/a/default.yaml"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_discovery_order(case: Case, tmp_path: Path) -> None:
    places = {"cwd": tmp_path / "work", "home": tmp_path / "home",
              "project": tmp_path / "home" / ".ail" / "projects" / "abc"}
    for place in places.values():
        place.mkdir(parents=True, exist_ok=True)
    for name, text in case.files.items():
        path = Path(name.format(**places))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(**places), encoding="utf-8")

    found = discover_pipeline(places["cwd"], places["home"], places["project"])

    if case.expected == "ambiguous":
        assert found.path is None and found.ambiguous
        assert [p.name for p in found.candidates] == ["default.yaml", "other.ail.yaml"]
    elif case.expected is None:
        assert found.path is None and not found.ambiguous
    else:
        assert found.path == Path(case.expected.format(**places))


def test_nothing_found_lists_every_place_in_order(tmp_path: Path) -> None:
    found = discover_pipeline(tmp_path / "cwd", tmp_path / "home", tmp_path / "project")
    assert found.path is None
    assert found.looked == (tmp_path / "project" / "last_pipeline",
                            tmp_path / "cwd" / ".ail" / "default",
                            tmp_path / "cwd" / ".ail" / "*" / "*.yaml",
                            tmp_path / "home" / ".config" / "ail" / "default.yaml")
