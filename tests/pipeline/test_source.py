"""YAML 1.2 scalars and source positions."""

from __future__ import annotations

import math

import pytest

from ail_tui.pipeline.source import YamlFloat, YamlInt, YamlSyntaxError, parse_yaml


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("False", False),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("~", None),
        ("null", None),
        ("", None),
        ("42", 42),
        ("-7", -7),
        ("0x1f", 31),
        ("0o17", 15),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("'42'", "42"),
        ('"true"', "true"),
        ("hello world", "hello world"),
        ("!!str 12", "12"),
    ],
)
def test_scalars_follow_yaml_1_2_core(text: str, expected: object) -> None:
    value = parse_yaml(f"k: {text}\n", "f.yaml")["k"]
    assert value == expected
    assert type(value) in (type(expected), YamlInt, YamlFloat)


def test_special_floats() -> None:
    data = parse_yaml("a: .inf\nb: -.Inf\nc: .nan\n", "f.yaml")
    assert data["a"] == math.inf and data["b"] == -math.inf and math.isnan(data["c"])


def test_numbers_keep_their_source_text() -> None:
    data = parse_yaml("version: 0.10\nn: 007\n", "f.yaml")
    assert data["version"].raw == "0.10"
    assert data["n"] == 7 and data["n"].raw == "007"


def test_positions_of_keys_values_and_items() -> None:
    data = parse_yaml("pipeline:\n  - id: a\n    depends_on: [x, y]\n", "p.yaml")
    step = data["pipeline"][0]
    assert (data.marks.key("pipeline").line, data.marks.key("pipeline").column) == (1, 1)
    assert (step.marks.at.line, step.marks.at.column) == (2, 5)
    assert (step.marks.value("id").line, step.marks.value("id").column) == (2, 9)
    items = step["depends_on"].marks.items
    assert [(p.line, p.column) for p in items] == [(3, 18), (3, 21)]
    assert items[0].file == "p.yaml"


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("a: 1\na: 2\n", "duplicate key 'a'", 2, 1),
        ("a: [b\n", "did not find expected", 2, 1),
        ("{ this is: [not valid yaml: at all }", "expected", 1, 36),
        ("a: !!int x\n", "does not match its tag", 1, 4),
        ("? [a]\n: b\n", "mapping keys must be plain scalars", 1, 3),
        ("a\n---\nb\n", "another document", 2, 1),
        ("&a [*a]\n", "recursive alias", 1, 5),
        ("a: *nope\n", "undefined alias", 1, 4),
    ],
)
def test_syntax_errors_carry_positions(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(YamlSyntaxError) as info:
        parse_yaml(text, "f.yaml")
    assert message in str(info.value)
    assert info.value.position is not None
    assert (info.value.position.line, info.value.position.column) == (line, column)


def test_empty_document_is_none() -> None:
    assert parse_yaml("# only a comment\n", "f.yaml") is None


def test_aliases_share_one_conversion() -> None:
    data = parse_yaml("a: &x {k: [1, 2]}\nb: *x\nc: *x\n", "f.yaml")
    assert data["a"] is data["b"] is data["c"]
