"""`ail-tui validate` on broken YAML shows where the unclosed construct opened (issue 14).

The headline keeps the place where the parser gave up; the excerpt shows the opening line
(caret and label) as well as that place, and JSON adds ``context_line``/``context_column``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from ail_tui.cli import main
from ail_tui.pipeline import source
from ail_tui.pipeline.loader import load_pipeline
from ail_tui.tui.widgets.problems import render_problems

LIBYAML = source._Loader is not yaml.SafeLoader
HEAD = 'version: "1"\npipeline:\n  - id: a\n'
TAIL = "  - id: b\n    prompt: hi\n"


class Case(NamedTuple):
    text: str
    problem: tuple[int, int]
    context: tuple[int, int] | None
    label: str


CASES = {
    "unclosed flow sequence": Case(
        HEAD + "    depends_on: [x, y\n" + TAIL, (5, 7), (4, 17), "the flow sequence opened here"),
    "unclosed flow mapping": Case(
        HEAD + "    meta: {x: 1, y: 2\n" + TAIL, (5, 7), (4, 11), "the flow mapping opened here"),
    "unclosed double-quoted string": Case(
        HEAD + '    prompt: "hello\n' + TAIL, (7, 1), (4, 13), "the quoted scalar opened here"),
    "unclosed single-quoted string": Case(
        HEAD + "    prompt: 'hello\n" + TAIL, (7, 1), (4, 13), "the quoted scalar opened here"),
    "tab indentation": Case(
        HEAD + "\tprompt: hi\n", (4, 1), (3, 9) if LIBYAML else None,
        "the plain scalar starts here"),
}


def validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str], text: str, *args: str) -> str:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.ail.yaml").write_text(text, encoding="utf-8")
    assert main(["validate", "p.ail.yaml", *args]) == 1
    captured = capsys.readouterr()
    return captured.out if "json" in args else captured.err  # text: diagnostics on stderr


def excerpt(text: str, line: int, column: int) -> tuple[str, str]:
    """The gutter line and the caret line ``format_diagnostic`` shows for a place."""
    source_line = text.splitlines()[line - 1]
    before = "".join("\t" if ch == "\t" else " " for ch in source_line[: column - 1])
    return f"{line:>5} | {source_line}", f"      | {before}^"


def test_the_issue_example_shows_both_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES["unclosed flow sequence"]
    lines = validate(tmp_path, monkeypatch, capsys, case.text).splitlines()
    assert lines[0].startswith("p.ail.yaml:5:7: error[ail:config/invalid-yaml]: Failed to parse")
    assert lines[0].endswith(" (the flow sequence opened at line 4, column 17 is not closed)")
    assert lines[1:5] == [
        "    4 |     depends_on: [x, y",
        "      |                 ^ the flow sequence opened here",
        "    5 |   - id: b",
        "      |       ^",
    ]
    assert lines[5:] == ["p.ail.yaml: invalid — 1 error"]


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_text_shows_the_opening_and_the_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str],
                                             case: Case) -> None:
    lines = validate(tmp_path, monkeypatch, capsys, case.text).splitlines()
    row, column = case.problem
    assert lines[0].startswith(f"p.ail.yaml:{row}:{column}: error[ail:config/invalid-yaml]: ")
    body = lines[1:-1]
    expected: list[str] = []
    if case.context is not None:
        opening, caret = excerpt(case.text, *case.context)
        expected += [opening, f"{caret} {case.label}"]
    if row <= len(case.text.splitlines()):  # the end of the file has no line to show
        expected += list(excerpt(case.text, row, column))
    assert body == expected


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_json_adds_the_opening_position(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str],
                                        case: Case) -> None:
    out = validate(tmp_path, monkeypatch, capsys, case.text, "--format", "json")
    report = json.loads(out)
    [error] = report["errors"]
    assert error["error_type"] == "ail:config/invalid-yaml"
    assert error["detail"].startswith("Failed to parse ")
    assert Path(error["file"]).name == "p.ail.yaml"
    assert (error["line"], error["column"]) == case.problem
    if case.context is None:
        assert "context_line" not in error and "context_column" not in error
    else:
        assert (error["context_line"], error["context_column"]) == case.context


def test_without_an_opening_the_report_is_unchanged(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    text = 'version: "1"\npipeline: x: y\n'
    lines = validate(tmp_path, monkeypatch, capsys, text).splitlines()
    assert lines[0].startswith("p.ail.yaml:2:12: error[ail:config/invalid-yaml]: ")
    assert lines[1:] == ["    2 | pipeline: x: y", "      |            ^",
                         "p.ail.yaml: invalid — 1 error"]
    [error] = json.loads(validate(tmp_path, monkeypatch, capsys, text, "--format",
                                  "json"))["errors"]
    assert set(error) == {"error_type", "detail", "file", "line", "column"}


def test_a_credential_on_the_opening_line_is_masked(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    secret = "sk-ant-unclosed-0123456789"
    text = HEAD + "    prompt: hi\n    provider: {auth_token: " + secret + ", model: x\n" + TAIL
    out = validate(tmp_path, monkeypatch, capsys, text)
    assert "the flow mapping opened here" in out
    assert secret not in out


def test_problems_pane_shows_the_opening_line(tmp_path: Path) -> None:
    case = CASES["unclosed flow sequence"]
    path = tmp_path / "p.ail.yaml"
    path.write_text(case.text, encoding="utf-8")
    pane = render_problems(load_pipeline(path), str(path)).plain
    assert "    4 |     depends_on: [x, y\n" in pane
    assert "^ the flow sequence opened here\n" in pane
    assert "    5 |   - id: b\n" in pane


def test_an_opening_on_the_same_line_shares_the_source_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    text = HEAD + '    prompt: "bad \\q escape"\n'
    lines = validate(tmp_path, monkeypatch, capsys, text).splitlines()
    assert lines[0].startswith("p.ail.yaml:4:")
    assert "quoted scalar that starts at line 4, column 13)" in lines[0]
    assert lines[1] == '    4 |     prompt: "bad \\q escape"'
    assert lines[2].startswith("      |             ^ the ")
    assert lines[2].endswith("quoted scalar starts here")
    assert lines[3].startswith("      |                  ") and lines[3].endswith("^")
    assert lines[4:] == ["p.ail.yaml: invalid — 1 error"]
