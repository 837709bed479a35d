"""Loading: shapes with positions, FROM inheritance and hook operations, named pipelines."""

from __future__ import annotations

from pathlib import Path

import pytest

from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.loader import load_pipeline


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    result = load_pipeline(tmp_path / "nope.ail.yaml")
    assert result.pipeline is None
    [finding] = result.diagnostics
    assert finding.error_type == ErrorType.FILE_NOT_FOUND
    assert "Could not read" in finding.detail


def test_yaml_syntax_error_is_positioned(tmp_path: Path) -> None:
    path = write(tmp_path, "p.ail.yaml", 'version: "0.1"\npipeline:\n  - id: [a\n')
    [finding] = load_pipeline(path).diagnostics
    assert finding.error_type == ErrorType.INVALID_YAML
    assert finding.detail.startswith(f"Failed to parse '{path}'")
    assert finding.position is not None and finding.position.line == 4


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_document_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    [finding] = load_pipeline(write(tmp_path, "p.ail.yaml", text)).diagnostics
    assert finding.error_type == ErrorType.INVALID_YAML
    assert "must be a mapping" in finding.detail


def test_every_wrong_shape_is_reported_and_the_rest_still_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.ail.yaml",
        'version: "0.1"\n'
        "defaults:\n"
        "  max_concurrency: two\n"
        "pipeline:\n"
        "  - id: lint\n"
        "    async: yes\n"
        "    depends_on: setup\n"
        "    prompt: hi\n"
        "  - just a string\n"
        "  - id: ok\n"
        "    prompt: fine\n",
    )
    result = load_pipeline(path)
    found = {(d.detail, d.position.line, d.position.column)
             for d in result.diagnostics if d.position}
    assert ("Field 'defaults.max_concurrency' must be an integer, not 'two'", 3, 20) in found
    assert ("Step 'lint': field 'async' must be true or false, not 'yes'", 6, 12) in found
    assert ("Step 'lint': field 'depends_on' must be a list, not 'setup'", 7, 17) in found
    assert any("must be a mapping of fields" in d.detail and d.position and d.position.line == 9
               for d in result.diagnostics)
    assert all(d.error_type == ErrorType.INVALID_YAML for d in result.diagnostics)
    assert result.pipeline is not None
    assert [s.id for s in result.pipeline.steps] == ["lint", "ok"]
    assert result.pipeline.steps[0].prompt == "hi"


def test_string_fields_keep_scalar_text(tmp_path: Path) -> None:
    path = write(tmp_path, "p.ail.yaml", "version: 0.10\npipeline:\n  - id: 1\n    prompt: true\n")
    pipeline = load_pipeline(path).pipeline
    assert pipeline is not None
    assert pipeline.version == "0.10"
    assert (pipeline.steps[0].id, pipeline.steps[0].prompt) == ("1", "true")


BASE = """version: "0.0.1"
defaults:
  model: base-model
  provider: {base_url: "http://base", model: base-provider}
  tools: {allow: [Read]}
pipeline:
  - id: audit
    prompt: audit
  - id: tests
    prompt: tests
  - id: commit
    prompt: commit
"""


def test_from_hooks_edit_the_inherited_list(tmp_path: Path) -> None:
    write(tmp_path, "base.ail.yaml", BASE)
    child = write(
        tmp_path,
        "child.ail.yaml",
        "FROM: ./base.ail.yaml\n"
        "defaults:\n"
        "  provider: {model: child-provider}\n"
        "  tools: {deny: [Bash]}\n"
        "pipeline:\n"
        "  - run_before: audit\n    id: license\n    prompt: license\n"
        "  - run_after: tests\n    id: coverage\n    prompt: coverage\n"
        "  - override: commit\n    prompt: conventional commit\n"
        "  - id: extra\n    prompt: appended\n",
    )
    result = load_pipeline(child)
    assert result.diagnostics == []
    pipeline = result.pipeline
    assert pipeline is not None and pipeline.has_from
    assert pipeline.version == "0.0.1"
    assert [s.id for s in pipeline.steps] == [
        "license", "audit", "tests", "coverage", "commit", "extra"
    ]
    assert pipeline.steps[4].prompt == "conventional commit"
    assert pipeline.defaults.model == "base-model"
    assert pipeline.defaults.provider is not None
    assert pipeline.defaults.provider.model == "child-provider"
    assert pipeline.defaults.provider.base_url == "http://base"
    assert pipeline.defaults.tools is not None and pipeline.defaults.tools.allow == []
    assert pipeline.steps[1].pos() is not None
    assert pipeline.steps[1].pos().file.endswith("base.ail.yaml")
    assert pipeline.steps[0].pos().file.endswith("child.ail.yaml")
    assert {p.name for p in result.files} == {"base.ail.yaml", "child.ail.yaml"}


def test_from_disable_removes_the_step(tmp_path: Path) -> None:
    write(tmp_path, "base.ail.yaml", BASE)
    child = write(tmp_path, "c.ail.yaml", 'version: "1"\nFROM: base.ail.yaml\n'
                  "pipeline:\n  - disable: commit\n")
    pipeline = load_pipeline(child).pipeline
    assert pipeline is not None
    assert [s.id for s in pipeline.steps] == ["audit", "tests"]


def test_from_unknown_target_lists_valid_ids(tmp_path: Path) -> None:
    write(tmp_path, "base.ail.yaml", BASE)
    child = write(tmp_path, "c.ail.yaml", "FROM: ./base.ail.yaml\npipeline:\n  - disable: nope\n")
    [finding] = load_pipeline(child).diagnostics
    assert "does not exist in the inheritance chain" in finding.detail
    assert "Valid step IDs: ['audit', 'tests', 'commit']" in finding.detail
    assert (finding.position.line, finding.position.column) == (3, 14)


def test_from_cycle_is_circular_inheritance(tmp_path: Path) -> None:
    write(tmp_path, "a.ail.yaml", "FROM: ./b.ail.yaml\npipeline: []\n")
    b = write(tmp_path, "b.ail.yaml", "FROM: ./a.ail.yaml\npipeline: []\n")
    findings = load_pipeline(b).diagnostics
    assert [d.error_type for d in findings] == [ErrorType.CIRCULAR_INHERITANCE]
    assert "circular inheritance detected" in findings[0].detail


def test_from_missing_base_points_at_from(tmp_path: Path) -> None:
    child = write(tmp_path, "c.ail.yaml", 'version: "1"\nFROM: ./gone.ail.yaml\npipeline: []\n')
    [finding] = load_pipeline(child).diagnostics
    assert finding.error_type == ErrorType.FILE_NOT_FOUND
    assert (finding.position.line, finding.position.column) == (2, 7)


def test_named_pipelines_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.ail.yaml",
        'version: "1"\npipeline:\n  - id: call\n    pipeline: review\n'
        "pipelines:\n  review:\n    - id: r\n      prompt: review it\n",
    )
    pipeline = load_pipeline(path).pipeline
    assert pipeline is not None
    assert [s.id for s in pipeline.pipelines["review"]] == ["r"]
    assert pipeline.pipelines_pos["review"].line == 6
