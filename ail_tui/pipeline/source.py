"""YAML documents as plain data that remembers where every node came from.

PyYAML composes the node graph (with its marks); this module turns it into dicts,
lists and scalars following the YAML 1.2 core schema (only ``true``/``false`` are
booleans, ``0.1`` stays readable as the text ``"0.1"``), attaching source positions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_PLAIN = "tag:ail-tui:plain"


class _ComposeLoader(_Loader):  # type: ignore[misc, valid-type]
    """A composer that marks untagged plain scalars; typing them is done here, YAML 1.2 style."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]


_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"

_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_RE = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class Position(NamedTuple):
    """A 1-based line and column in a source file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(slots=True)
class Marks:
    """Where a mapping or sequence starts, and where each of its keys, values and items are."""

    at: Position
    keys: dict[str, Position] = field(default_factory=dict)
    values: dict[str, Position] = field(default_factory=dict)
    items: list[Position] = field(default_factory=list)

    def value(self, key: str) -> Position:
        """The position of ``key``'s value, or of the mapping when the key is absent."""
        return self.values.get(key) or self.at

    def key(self, key: str) -> Position:
        """The position of ``key`` itself, or of the mapping when the key is absent."""
        return self.keys.get(key) or self.at


class YamlMap(dict[str, Any]):
    """A YAML mapping with its :class:`Marks`."""

    __slots__ = ("marks",)

    def __init__(self, marks: Marks, *args: Any) -> None:
        super().__init__(*args)
        self.marks = marks


class YamlSeq(list[Any]):
    """A YAML sequence with its :class:`Marks` (``items`` holds each item's position)."""

    __slots__ = ("marks",)

    def __init__(self, marks: Marks, *args: Any) -> None:
        super().__init__(*args)
        self.marks = marks


class YamlInt(int):
    """An integer scalar that keeps its source text (string fields take the text)."""

    raw: str

    def __new__(cls, value: int, raw: str) -> YamlInt:
        obj = super().__new__(cls, value)
        obj.raw = raw
        return obj


class YamlFloat(float):
    """A float scalar that keeps its source text (``version: 0.10`` stays ``"0.10"``)."""

    raw: str

    def __new__(cls, value: float, raw: str) -> YamlFloat:
        obj = super().__new__(cls, value)
        obj.raw = raw
        return obj


class YamlSyntaxError(ValueError):
    """The text is not YAML this loader accepts; ``position`` says where."""

    def __init__(self, message: str, position: Position | None) -> None:
        super().__init__(message)
        self.position = position


def _position(file: str, mark: Any) -> Position:
    return Position(file, mark.line + 1, mark.column + 1)


_SPECIAL_START = frozenset("0123456789+-.~nNtTfF")


def _scalar(node: yaml.ScalarNode, file: str) -> Any:
    value: str = node.value
    tag = node.tag
    if tag == _PLAIN and value and value[0] not in _SPECIAL_START:
        return value
    if tag in (_PLAIN, _NULL, _BOOL, _INT, _FLOAT):
        if tag in (_PLAIN, _NULL) and _NULL_RE.match(value):
            return None
        if tag in (_PLAIN, _BOOL) and _BOOL_RE.match(value):
            return value.lower() == "true"
        if tag in (_PLAIN, _INT) and _INT_RE.match(value):
            if value.startswith("0o"):
                return YamlInt(int(value[2:], 8), value)
            if value.startswith("0x"):
                return YamlInt(int(value[2:], 16), value)
            return YamlInt(int(value), value)
        if tag in (_PLAIN, _FLOAT) and _FLOAT_RE.match(value):
            text = value.lower().lstrip("+")
            if text.endswith(".inf"):
                number = -math.inf if text.startswith("-") else math.inf
            elif text == ".nan":
                number = math.nan
            else:
                number = float(value)
            return YamlFloat(number, value)
        if tag != _PLAIN:
            raise YamlSyntaxError(
                f"the value '{value}' does not match its tag {tag}",
                _position(file, node.start_mark),
            )
    return value


class _Converter:
    def __init__(self, file: str) -> None:
        self.file = file
        self.done: dict[int, Any] = {}
        self.active: set[int] = set()

    def convert(self, node: yaml.Node) -> Any:
        if node.__class__ is yaml.ScalarNode:
            return _scalar(node, self.file)
        key = id(node)
        if key in self.done:
            return self.done[key]
        if key in self.active:
            raise YamlSyntaxError(
                "a recursive alias refers to itself", _position(self.file, node.start_mark)
            )
        self.active.add(key)
        try:
            result = self._collection(node)
        finally:
            self.active.discard(key)
        self.done[key] = result
        return result

    def _collection(self, node: yaml.Node) -> Any:
        file = self.file
        convert = self.convert
        start = node.start_mark
        marks = Marks(Position(file, start.line + 1, start.column + 1))
        if isinstance(node, yaml.SequenceNode):
            seq = YamlSeq(marks)
            items = marks.items
            for item in node.value:
                mark = item.start_mark
                items.append(Position(file, mark.line + 1, mark.column + 1))
                seq.append(convert(item))
            return seq
        mapping = YamlMap(marks)
        keys, values = marks.keys, marks.values
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            key_pos = Position(file, mark.line + 1, mark.column + 1)
            if key_node.__class__ is not yaml.ScalarNode:
                raise YamlSyntaxError("mapping keys must be plain scalars", key_pos)
            name = key_node.value
            if name in mapping:
                raise YamlSyntaxError(f"duplicate key '{name}'", key_pos)
            keys[name] = key_pos
            mark = value_node.start_mark
            values[name] = Position(file, mark.line + 1, mark.column + 1)
            mapping[name] = convert(value_node)
        return mapping


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into marked plain data; raise :class:`YamlSyntaxError`.

    An empty document gives ``None``.
    """
    try:
        node = yaml.compose(text, Loader=_ComposeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        where = _position(file, mark) if mark is not None else None
        raise YamlSyntaxError(problem, where) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), None) from None
    if node is None:
        return None
    return _Converter(file).convert(node)


def marks_of(value: Any) -> Marks | None:
    """The marks of a mapping or sequence parsed by :func:`parse_yaml`, else ``None``."""
    return getattr(value, "marks", None)
