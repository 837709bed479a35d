"""Text-mode ``validate`` writes its diagnostics on stderr, as Rust ``ail`` and compilers do;
stdout has only a valid file's summary, and the JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT.parent / "shared" / "ail-cases"
INVALID = CASES / "cli_validate_invalid_text_stderr" / "invalid_duplicate_ids.ail.yaml"
VALID = CASES / "cli_validate_valid_text" / "minimal.ail.yaml"

pytestmark = pytest.mark.skipif(not INVALID.is_file() or not VALID.is_file(),
                                reason="../shared/ail-cases is not beside the repo")


def child_env() -> dict[str, str]:
    """The environment for ``python -m ail_tui`` from any directory, installed or not."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def validate(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ail_tui", "validate", str(path), *args],
                          capture_output=True, text=True, check=False, cwd=path.parent,
                          env=child_env())


def test_an_invalid_file_prints_nothing_on_stdout() -> None:
    done = validate(INVALID)
    assert done.returncode == 1
    assert done.stdout == ""
    assert ":5:9: error[ail:config/validation-failed]: Step id 'review' appears more than " \
           "once in pipeline" in done.stderr
    assert done.stderr.splitlines()[-1].endswith(": invalid — 1 error")


def test_a_valid_file_prints_its_summary_on_stdout() -> None:
    done = validate(VALID)
    assert done.returncode == 0
    assert (done.stdout, done.stderr) == ("minimal.ail.yaml: valid\n", "")


def test_json_stays_on_stdout() -> None:
    done = validate(INVALID, "--format", "json")
    assert done.returncode == 1 and done.stderr == ""
    assert json.loads(done.stdout)["valid"] is False
