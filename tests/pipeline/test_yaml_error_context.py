"""YAML syntax errors name where the unclosed construct opened, not only where parsing stopped.

PyYAML reports two marks: ``problem_mark`` (where it gave up) and ``context_mark`` (where
the construct it was reading began). The position stays the problem's; the opening place is
added to the message, to the error and to the diagnostic (issue 14).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from ail_tui.pipeline import source
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.loader import load_pipeline
from ail_tui.pipeline.source import Position, YamlSyntaxError, parse_yaml

LIBYAML = source._Loader is not yaml.SafeLoader
HEAD = 'version: "1"\npipeline:\n  - id: a\n'
TAIL = "  - id: b\n    prompt: hi\n"


class Case(NamedTuple):
    text: str
    problem: tuple[int, int]  # where the parser gave up (today's position)
    context: tuple[int, int] | None  # where the construct opened
    note: str  # what the message adds


CASES = {
    "unclosed flow sequence": Case(
        HEAD + "    depends_on: [x, y\n" + TAIL, (5, 7), (4, 17),
        " (the flow sequence opened at line 4, column 17 is not closed)"),
    "unclosed flow mapping": Case(
        HEAD + "    meta: {x: 1, y: 2\n" + TAIL, (5, 7), (4, 11),
        " (the flow mapping opened at line 4, column 11 is not closed)"),
    "unclosed double-quoted string": Case(
        HEAD + '    prompt: "hello\n' + TAIL, (7, 1), (4, 13),
        " (the quoted scalar opened at line 4, column 13 is not closed)"),
    "unclosed single-quoted string": Case(
        HEAD + "    prompt: 'hello\n" + TAIL, (7, 1), (4, 13),
        " (the quoted scalar opened at line 4, column 13 is not closed)"),
    # Only libyaml says which scalar it was reading when it met the tab.
    "tab indentation": Case(
        HEAD + "\tprompt: hi\n", (4, 1), (3, 9) if LIBYAML else None,
        " (in the plain scalar that starts at line 3, column 9)" if LIBYAML else ""),
}

NO_CONTEXT = {
    "no context mark": 'version: "1"\npipeline: x: y\n',
    "context mark equals problem mark": 'version: "1"\npipeline: @x\n',
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_parse_error_keeps_its_position_and_names_the_opening(case: Case) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml(case.text, "p.yaml")
    error = caught.value
    assert error.position == Position("p.yaml", *case.problem)
    expected = Position("p.yaml", *case.context) if case.context else None
    assert error.context_position == expected
    assert str(error).endswith(case.note)
    assert (error.context_label is not None) == (case.context is not None)


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_diagnostic_carries_the_opening_position(tmp_path: Path, case: Case) -> None:
    path = tmp_path / "p.ail.yaml"
    path.write_text(case.text, encoding="utf-8")
    [finding] = load_pipeline(path).diagnostics
    assert finding.error_type == ErrorType.INVALID_YAML
    assert finding.position == Position(str(path), *case.problem)
    assert finding.detail.startswith(f"Failed to parse '{path}': ")
    assert finding.detail.endswith(case.note)
    data = finding.to_json()
    assert (data["file"], data["line"], data["column"]) == (str(path), *case.problem)
    if case.context is None:
        assert finding.context_position is None
        assert "context_line" not in data and "context_column" not in data
    else:
        assert finding.context_position == Position(str(path), *case.context)
        assert (data["context_line"], data["context_column"]) == case.context


@pytest.mark.parametrize("text", NO_CONTEXT.values(), ids=list(NO_CONTEXT))
def test_without_a_separate_opening_nothing_is_added(tmp_path: Path, text: str) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml(text, "p.yaml")
    assert caught.value.context_position is None
    assert caught.value.context_label is None
    assert "(" not in str(caught.value)
    path = tmp_path / "p.ail.yaml"
    path.write_text(text, encoding="utf-8")
    [finding] = load_pipeline(path).diagnostics
    assert finding.context_position is None
    assert set(finding.to_json()) == {"error_type", "detail", "file", "line", "column"}


def test_errors_raised_by_the_loader_itself_have_no_opening() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml("a: 1\na: 2\n", "p.yaml")
    assert caught.value.position == Position("p.yaml", 2, 1)
    assert caught.value.context_position is None
