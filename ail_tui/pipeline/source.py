"""YAML documents as plain data that remembers where every node came from.

PyYAML composes the node graph (with its marks); this module turns it into dicts,
lists and scalars following the YAML 1.2 core schema (only ``true``/``false`` are
booleans, ``0.1`` stays readable as the text ``"0.1"``), attaching source positions.

A document is refused at the offending place when it nests deeper than
:data:`MAX_DEPTH`, when its aliases would expand it by more than
:data:`MAX_ALIAS_EXPANSION`, or when an integer has more than :data:`MAX_INT_DIGITS`
digits: whatever later walks the data (JSON, schemas, templates) stays bounded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 128
"""Mappings and sequences nest at most this deep, an alias counting as its anchor's nodes."""

MAX_ALIAS_EXPANSION = 1_000_000
"""What aliases may add to a document: each alias counts as a copy of its anchor, one per
node plus one per character of text (a whole 1,000-step pipeline weighs about 100,000)."""

MAX_INT_DIGITS = 4_300
"""Integer literals have at most this many digits (Python's own int-string limit)."""

_MAX_INT_BITS = (10**MAX_INT_DIGITS - 1).bit_length()


_PLAIN = "tag:ail-tui:plain"


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

    def __reduce__(self) -> tuple[type[YamlInt], tuple[int, str]]:
        return YamlInt, (int(self), self.raw)  # a pipeline travels to a run process


class YamlFloat(float):
    """A float scalar that keeps its source text (``version: 0.10`` stays ``"0.10"``)."""

    raw: str

    def __new__(cls, value: float, raw: str) -> YamlFloat:
        obj = super().__new__(cls, value)
        obj.raw = raw
        return obj

    def __reduce__(self) -> tuple[type[YamlFloat], tuple[float, str]]:
        return YamlFloat, (float(self), self.raw)


class YamlSyntaxError(ValueError):
    """The text is not YAML this loader accepts; ``position`` says where.

    When the parser gave up inside a construct that began elsewhere (an unclosed ``[``,
    ``{`` or quote), ``context_position`` says where that construct opened and
    ``context_label`` names it for a caret there (``"the flow sequence opened here"``); the
    message already mentions it.
    """

    def __init__(
        self, message: str, position: Position | None,
        context_position: Position | None = None, context_label: str | None = None,
    ) -> None:
        super().__init__(message)
        self.position = position
        self.context_position = context_position
        self.context_label = context_label


def _position(file: str, mark: Any) -> Position:
    return Position(file, mark.line + 1, mark.column + 1)


_SPECIAL_START = frozenset("0123456789+-.~nNtTfF")


def _resolve_scalar(value: str, tag: str, mark: Any, file: str) -> Any:
    """Type a plain (or explicitly tagged) scalar by the YAML 1.2 core schema."""
    if tag in (_PLAIN, _NULL) and _NULL_RE.match(value):
        return None
    if tag in (_PLAIN, _BOOL) and _BOOL_RE.match(value):
        return value.lower() == "true"
    if tag in (_PLAIN, _INT) and _INT_RE.match(value):
        return YamlInt(_integer(value, mark, file), value)
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
            f"the value '{value}' does not match its tag {tag}", _position(file, mark)
        )
    return value


def _integer(text: str, mark: Any, file: str) -> int:
    """The value of an integer literal that has at most :data:`MAX_INT_DIGITS` digits."""
    number: int | None = None
    prefixed = text.startswith(("0o", "0x"))
    digits = text[2:] if prefixed else text.lstrip("+-")
    if prefixed:
        number = int(digits, 8 if text[1] == "o" else 16)
    elif len(digits) <= MAX_INT_DIGITS:
        try:
            number = int(text)
        except ValueError:  # a lower limit set by PYTHONINTMAXSTRDIGITS
            number = None
    if number is None or number.bit_length() > _MAX_INT_BITS:
        size = "" if prefixed else f" (this one has {len(digits):,})"
        raise YamlSyntaxError(
            f"the integer {text[:12]}… is too large: integers may have at most "
            f"{MAX_INT_DIGITS:,} decimal digits{size}",
            _position(file, mark),
        )
    return number


def _scalar_event(event: Any, file: str) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        if not event.implicit[0]:
            return event.value
        tag = _PLAIN
    elif tag not in (_NULL, _BOOL, _INT, _FLOAT):
        return event.value
    value: str = event.value
    if tag == _PLAIN and value and value[0] not in _SPECIAL_START:
        return value
    return _resolve_scalar(value, tag, event.start_mark, file)


def _build(parser: Any, file: str) -> Any:
    """Build marked data from the parser's event stream (one document).

    Aliases share their anchor's value; what they would expand to is counted (see
    :data:`MAX_ALIAS_EXPANSION`), and so is how deep they make the document nest.
    """
    get = parser.get_event
    root: Any = None
    have_root = False
    documents = 0
    # Each frame: [container, marks, pending key name or None, anchor, start mark,
    #              weight before it, height]
    stack: list[list[Any]] = []
    # anchor -> (value, weight, height); weight: one per node and per character of text
    anchors: dict[str, tuple[Any, int, int]] = {}
    building: set[str] = set()
    weight = 0
    aliased = 0

    def pos(mark: Any) -> Position:
        return Position(file, mark.line + 1, mark.column + 1)

    while True:
        event = get()
        kind = event.__class__
        if kind is yaml.ScalarEvent:
            value = _scalar_event(event, file)
            size, height = 1 + len(event.value), 0
            weight += size
            if event.anchor is not None:
                anchors[event.anchor] = (value, size, 0)
        elif kind is yaml.AliasEvent:
            anchor = event.anchor
            if anchor in building:
                raise YamlSyntaxError("a recursive alias refers to itself", pos(event.start_mark))
            if anchor not in anchors:
                raise YamlSyntaxError(f"found undefined alias '*{anchor}'", pos(event.start_mark))
            value, size, height = anchors[anchor]
            if len(stack) + height > MAX_DEPTH:
                raise YamlSyntaxError(
                    f"the alias '*{anchor}' makes mappings and sequences nest deeper than "
                    f"{MAX_DEPTH} levels",
                    pos(event.start_mark),
                )
            aliased += size
            if aliased > MAX_ALIAS_EXPANSION:
                raise YamlSyntaxError(
                    f"aliases expand the document by more than {MAX_ALIAS_EXPANSION:,} nodes "
                    f"and characters; the alias '*{anchor}' goes past that limit",
                    pos(event.start_mark),
                )
            weight += size
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            marks = Marks(pos(event.start_mark))
            if len(stack) >= MAX_DEPTH:
                raise YamlSyntaxError(
                    f"mappings and sequences nest deeper than {MAX_DEPTH} levels", marks.at
                )
            container = YamlMap(marks) if kind is yaml.MappingStartEvent else YamlSeq(marks)
            if stack and stack[-1][2] is None and stack[-1][0].__class__ is YamlMap:
                raise YamlSyntaxError("mapping keys must be plain scalars", marks.at)
            if event.anchor is not None:
                building.add(event.anchor)
            stack.append([container, marks, None, event.anchor, event.start_mark, weight, 1])
            weight += 1
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            frame = stack.pop()
            value, height = frame[0], frame[6]
            if frame[3] is not None:
                building.discard(frame[3])
                anchors[frame[3]] = (value, weight - frame[5], height)
            event = _StartOf(frame[4])
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise YamlSyntaxError(
                    "expected a single document in the stream, but found another document",
                    pos(event.start_mark),
                )
            continue
        elif kind is yaml.StreamEndEvent:
            return root if have_root else None
        else:
            continue
        if not stack:
            root, have_root = value, True
            continue
        frame = stack[-1]
        if height >= frame[6]:
            frame[6] = height + 1
        container = frame[0]
        mark = event.start_mark
        if container.__class__ is YamlSeq:
            frame[1].items.append(Position(file, mark.line + 1, mark.column + 1))
            container.append(value)
        elif frame[2] is None:
            if kind is not yaml.ScalarEvent:
                raise YamlSyntaxError("mapping keys must be plain scalars", pos(mark))
            name = event.value
            where = Position(file, mark.line + 1, mark.column + 1)
            if name in container:
                raise YamlSyntaxError(f"duplicate key '{name}'", where)
            frame[1].keys[name] = where
            frame[2] = name
        else:
            name = frame[2]
            frame[1].values[name] = Position(file, mark.line + 1, mark.column + 1)
            container[name] = value
            frame[2] = None


class _StartOf:
    """Stands for a finished collection's start event when it is placed in its parent."""

    __slots__ = ("start_mark",)

    def __init__(self, start_mark: Any) -> None:
        self.start_mark = start_mark


_CONTEXT_RE = re.compile(r"^while (?:parsing|scanning) an? (?P<what>[\w %-]+)$")
_CLOSED_BY_A_BRACKET = frozenset({"flow sequence", "flow mapping"})
_CLOSED_BY_A_QUOTE = frozenset({"quoted scalar", "double-quoted scalar", "single-quoted scalar"})


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> YamlSyntaxError:
    """PyYAML's error at the place it gave up, naming where the construct it read began.

    ``exc.context_mark`` ("while parsing a flow sequence", at the ``[``) is kept only when
    it is a different place from ``exc.problem_mark``; otherwise the error is as before.
    """
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    where = _position(file, mark) if mark is not None else None
    if exc.problem_mark is None or exc.context_mark is None or not exc.context:
        return YamlSyntaxError(problem, where)
    opened = _position(file, exc.context_mark)
    if opened == where:
        return YamlSyntaxError(problem, where)
    at = f"line {opened.line}, column {opened.column}"
    found = _CONTEXT_RE.match(exc.context)
    what = found["what"] if found else None
    if what in _CLOSED_BY_A_BRACKET or (
        what in _CLOSED_BY_A_QUOTE and "end of stream" in problem
    ):
        note, label = f"the {what} opened at {at} is not closed", f"the {what} opened here"
    elif what is not None:
        note, label = f"in the {what} that starts at {at}", f"the {what} starts here"
    else:
        note, label = f"{exc.context} from {at}", "it began here"
    return YamlSyntaxError(f"{problem} ({note})", where, opened, label)


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into marked plain data; raise :class:`YamlSyntaxError`.

    An empty document gives ``None``.
    """
    parser = _Loader(text)
    try:
        return _build(parser, file)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), None) from None
    finally:
        parser.dispose()


def marks_of(value: Any) -> Marks | None:
    """The marks of a mapping or sequence parsed by :func:`parse_yaml`, else ``None``."""
    return getattr(value, "marks", None)
