"""Events on the wire: one JSON line per event, and the typed event back (decisions A3).

A detached run hands its events to viewers in other processes; this is their form on the
way. A line is :meth:`~ail_tui.engine.events.Event.to_json` (the headless NDJSON object:
the same keys, record-only fields left out, ``omit_when_none`` fields left out when
None) with one difference: ``at`` is the event's exact float of epoch seconds, not the
millisecond text, so a viewer's timeline is the run's own. Keys sorted, compact,
strict JSON (no NaN), UTF-8, one ``\\n`` at the end::

    {"at":1796099774.123456,"step_id":"review","stream":"stdout","text":"ok","type":"step_output"}

Only announced events travel: journal-only ones never reach a viewer. A decoded event
equals ``announced(event, secrets)`` of the one encoded (its record-only fields have
their defaults). Values typed ``Any`` (a runner event's payload, a tool's input) come
back as JSON gives them: lists for tuples inside them.

The kinds of event are found by walking :class:`Event`'s subclasses, so a new event
class travels without a change here; a field of a type JSON cannot carry back fails at
import (and the codec's tests), not on the wire.
"""

from __future__ import annotations

import json
import math
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from typing import Any, Union, get_args, get_origin

from ail_tui.engine import events as ev

MAX_EVENT_BYTES = 16 * 1024 * 1024
"""The longest line (with its newline) :func:`encode_event` makes and
:func:`decode_event` takes: far above any event's text, well below a viewer's memory."""


class BadEvent(ValueError):
    """A line that is not an event this codec knows: the only error of :func:`decode_event`."""


_Convert = Callable[[Any], Any]
"""A field's value as JSON gives it -> its Python value (raises ``_Mismatch``)."""


class _Mismatch(Exception):
    """A JSON value that does not fit the field's declared type."""


def encode_event(event: ev.Event) -> bytes:
    """``event`` as one line of the wire: its JSON form with ``at`` as exact seconds.

    Raises ValueError for a journal-only event, a value JSON cannot carry (NaN, an
    object), or a line longer than :data:`MAX_EVENT_BYTES`.
    """
    if event.journal_only:
        raise ValueError(f"{event.type} is journal-only: it is never announced")
    try:
        data = event.to_json()
    except (ValueError, OverflowError, OSError) as error:  # ``at`` beyond any date
        raise ValueError(f"{event.type} cannot be sent: {error}") from error
    data["at"] = float(event.at)
    try:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{event.type} cannot be sent as JSON: {error}") from error
    try:
        line = (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped, it still comes back exact
        line = (json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
                + "\n").encode("ascii")
    if len(line) > MAX_EVENT_BYTES:
        raise ValueError(f"{event.type} is {len(line)} bytes as JSON, "
                         f"over the limit of {MAX_EVENT_BYTES}")
    return line


def decode_event(line: bytes | str) -> ev.Event:
    """The typed event of one wire line (its trailing newline optional).

    Raises :class:`BadEvent` for anything else: a line too long, not UTF-8, not JSON,
    not an object, an unknown ``type``, a missing field, a value of the wrong type.
    """
    too_long = BadEvent(f"event line over the limit of {MAX_EVENT_BYTES} bytes")
    if len(line) > MAX_EVENT_BYTES:  # a str is never shorter in bytes than in characters
        raise too_long
    try:
        if isinstance(line, str):
            if len(line.encode("utf-8", "surrogatepass")) > MAX_EVENT_BYTES:
                raise too_long
        else:
            line = line.decode("utf-8")
        data = json.loads(line, parse_constant=_no_constant)
    except BadEvent:
        raise
    except UnicodeError as error:
        raise BadEvent(f"event line is not UTF-8: {error}") from None
    except (ValueError, RecursionError) as error:
        raise BadEvent(f"event line is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise BadEvent(f"event line is a JSON {type(data).__name__}, not an object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise BadEvent("event has no string 'type'")
    if kind == "runner_event":  # most of a run's events: the common shape, built at once
        step_id, at, payload = data.get("step_id"), data.get("at"), data.get("event")
        if (type(step_id) is str and type(payload) is dict and type(at) is float
                and math.isfinite(at)):
            return ev.RunnerEvent(step_id=step_id, at=at, event=payload)
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise BadEvent(f"unknown event type {kind!r}")
    return decoder(data)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Decoder:
    """One event class's way back from a JSON object: a converter per wire field."""

    def __init__(self, cls: type[ev.Event]) -> None:
        self.cls = cls
        namespace = vars(sys.modules[cls.__module__])
        self.fields: list[tuple[str, bool, _Convert]] = []
        """(name, required, converter) of each field the wire carries."""
        for item in fields(cls):
            if item.metadata.get("record_only"):
                continue
            declared = item.type
            if isinstance(declared, str):  # ``from __future__ import annotations``
                declared = eval(declared, namespace)  # as typing.get_type_hints does
            required = item.name == "at" or (
                item.default is MISSING and item.default_factory is MISSING)
            try:
                convert = _converter(declared)
            except TypeError as error:
                raise TypeError(f"{cls.__name__}.{item.name}: {error}") from None
            self.fields.append((item.name, required, convert))

    def __call__(self, data: Mapping[str, Any]) -> ev.Event:
        """The event of ``data``; keys the class does not know are ignored (a newer run)."""
        values: dict[str, Any] = {}
        for name, required, convert in self.fields:
            if name not in data:
                if required:
                    raise BadEvent(f"{self.cls.type} event has no {name!r}")
                continue
            try:
                values[name] = convert(data[name])
            except _Mismatch as error:
                raise BadEvent(f"{self.cls.type} event: {name!r} {error}") from None
        try:
            return self.cls(**values)
        except (TypeError, ValueError) as error:  # a class that checks its own values
            raise BadEvent(f"{self.cls.type} event: {error}") from None


def _converter(declared: Any) -> _Convert:
    """How a JSON value becomes a value of type ``declared`` (TypeError: not supported)."""
    if declared is Any:
        return lambda value: value
    if declared is type(None):
        return _exact(type(None), "null")
    if declared is bool:
        return _exact(bool, "a boolean")
    if declared is str:
        return _exact(str, "a string")
    if declared is int:
        return _int
    if declared is float:
        return _float
    origin, args = get_origin(declared), get_args(declared)
    if origin in (Union, types.UnionType):
        arms = [_converter(arm) for arm in args]
        return lambda value: _first_fit(arms, value, declared)
    if origin is list and len(args) == 1:
        item = _converter(args[0])
        return lambda value: [item(v) for v in _expect(value, list, "a list")]
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _converter(args[0])
        return lambda value: tuple(item(v) for v in _expect(value, list, "a list"))
    if origin is dict and len(args) == 2 and args[0] is str:
        item = _converter(args[1])
        return lambda value: {k: item(v) for k, v in _expect(value, dict, "an object").items()}
    raise TypeError(f"no wire form for the type {declared!r}")


def _exact(kind: type, what: str) -> _Convert:
    def convert(value: Any) -> Any:
        if type(value) is not kind:
            raise _Mismatch(f"is not {what}")
        return value
    return convert


def _expect(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind):
        raise _Mismatch(f"is not {what}")
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise _Mismatch("is not an integer")
    return value


def _float(value: Any) -> float:
    if type(value) in (int, float):
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            pass
        else:
            if math.isfinite(number):
                return number
    raise _Mismatch("is not a finite number")


def _first_fit(arms: list[_Convert], value: Any, declared: Any) -> Any:
    for arm in arms:
        try:
            return arm(value)
        except _Mismatch:
            continue
    raise _Mismatch(f"does not fit {declared}")


def _event_classes(root: type[ev.Event]) -> list[type[ev.Event]]:
    found: list[type[ev.Event]] = []
    for sub in root.__subclasses__():
        found.append(sub)
        found.extend(_event_classes(sub))
    return found


def _registry() -> dict[str, _Decoder]:
    """Every announced event class by its ``type`` (a class declares its own ``type``)."""
    decoders: dict[str, _Decoder] = {}
    for cls in _event_classes(ev.Event):
        if cls.journal_only or "type" not in vars(cls):
            continue
        if cls.type in decoders:
            raise TypeError(f"two event classes of type {cls.type!r}: "
                            f"{decoders[cls.type].cls.__name__} and {cls.__name__}")
        decoders[cls.type] = _Decoder(cls)
    return decoders


_DECODERS = _registry()

EVENT_TYPES: Mapping[str, type[ev.Event]] = types.MappingProxyType(
    {kind: decoder.cls for kind, decoder in _DECODERS.items()})
"""Every event class that travels, by its ``type``."""
