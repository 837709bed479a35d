"""Every pipeline from the AIL repository gets the load-time verdict the Rust tests expect."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ail_tui.pipeline.validation import check_file

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT.parent / "shared" / "ail-cases"
EXPECTED: dict[str, Any] = yaml.safe_load(
    (ROOT / "tests" / "fixtures" / "ail_cases_expected.yaml").read_text(encoding="utf-8")
)
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir()) if CASES.is_dir() else []

pytestmark = pytest.mark.skipif(not NAMES, reason="../shared/ail-cases is not beside the repo")


CASES_EXPECTED: dict[str, Any] = EXPECTED["cases"]


def test_every_case_has_a_verdict() -> None:
    assert sorted(CASES_EXPECTED) == NAMES


def _copy(name: str, tmp_path: Path) -> Path:
    """The case in a scratch folder, with its @@CASE_DIR@@ placeholders filled in."""
    target = tmp_path / name
    shutil.copytree(CASES / name, target)
    for path in target.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace("@@CASE_DIR@@", str(target)), encoding="utf-8")
    return target


@pytest.mark.parametrize("name", NAMES)
def test_case_gets_the_rust_verdict(name: str, tmp_path: Path) -> None:
    case = _copy(name, tmp_path)
    expected = CASES_EXPECTED[name]
    result = check_file(case / expected["file"])
    if expected["valid"]:
        assert result.valid, [e.display() for e in result.errors]
        return
    assert not result.valid
    matching = [e for e in result.errors if e.error_type == expected["error_type"]
                and all(part in e.detail for part in expected.get("detail_contains") or [])]
    assert matching, [e.display() for e in result.errors]
    located = [e for e in matching if e.position is not None]
    if name != "config_missing_file":
        assert located, "the error should carry a line and column"


@pytest.mark.parametrize("name", [n for n in NAMES if CASES_EXPECTED.get(n, {}).get("valid")])
def test_a_valid_case_travels_to_a_run_process_unchanged(name: str, tmp_path: Path) -> None:
    """A dashboard hands the pipeline it checked to its run's own process (A6)."""
    case = _copy(name, tmp_path)
    pipeline = check_file(case / CASES_EXPECTED[name]["file"]).pipeline
    assert pipeline is not None
    again = pickle.loads(pickle.dumps(pipeline))
    assert again == pipeline
