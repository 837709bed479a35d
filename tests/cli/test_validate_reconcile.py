"""`ail-tui validate` knows the ail-tui `reconcile:` step key (decisions D3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ail_tui.cli import main

PIPELINE = (
    'version: "0.1"\n'
    "pipeline:\n"
    "  - id: deploy\n"
    '    context: {shell: "./deploy.sh"}\n'
    "    reconcile:\n"
    '      shell: "./deploy.sh --status"\n'
    "  - id: summary\n"
    '    prompt: "Summarise {{ step.deploy.result }}"\n'
    '    reconcile: {shell: "cat summary.md"}\n'
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.ail.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reconcile_is_no_unknown_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(write(tmp_path, PIPELINE))]) == 0
    [line] = capsys.readouterr().out.splitlines()  # no finding printed, warnings included
    assert line.endswith("p.ail.yaml: valid")


def test_reconcile_json_has_no_warnings(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(write(tmp_path, PIPELINE)), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"valid": True, "errors": [], "warnings": []}


def test_bad_reconcile_is_an_error_at_its_place(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, PIPELINE.replace('"./deploy.sh --status"', '""'))
    assert main(["validate", str(path), "--format", "json"]) == 1
    [error] = json.loads(capsys.readouterr().out)["errors"]
    assert error["error_type"] == "ail:config/validation-failed"
    assert error["detail"] == "Step 'deploy' reconcile shell must be a non-empty command"
    assert (error["line"], error["column"], error["step_id"]) == (6, 14, "deploy")
