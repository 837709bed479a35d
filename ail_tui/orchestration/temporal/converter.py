"""How a run's messages travel through Temporal: JSON, as with the SDK's default
converter, but made and read without its per-value reflection.

The SDK's JSON converter resolves a dataclass's type hints every time it reads one and
deep-copies every dataclass it writes (``dataclasses.asdict``); for a run that is most of
a worker's time. The messages of :mod:`.messages` are read here from a table of their
fields made once, and written as their fields, shallowly.
"""

from __future__ import annotations

import dataclasses
import typing
from functools import cache
from typing import Any

from temporalio.client import Client
from temporalio.converter import (
    AdvancedJSONEncoder,
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
)

from ail_tui.orchestration.temporal import messages
from ail_tui.orchestration.temporal_target import TemporalTarget

MESSAGES: tuple[type, ...] = (
    messages.RunStart, messages.BodyRequest, messages.BodyOutcome, messages.BodyChunks,
    messages.Published, messages.DriverNote, messages.Control, messages.Progress,
    messages.Question, messages.Answer)


@cache
def _nested(cls: type) -> dict[str, tuple[type, bool]]:
    """The fields of message ``cls`` that hold messages: name → (their type, a list?)."""
    nested: dict[str, tuple[type, bool]] = {}
    for name, hint in typing.get_type_hints(cls).items():
        if hint in MESSAGES:
            nested[name] = (hint, False)
        elif typing.get_origin(hint) is list and typing.get_args(hint)[0] in MESSAGES:
            nested[name] = (typing.get_args(hint)[0], True)
    return nested


def _message(cls: type, value: Any) -> Any:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object for {cls.__name__}, got {type(value).__name__}")
    fields = dict(value)
    for name, (inner, many) in _nested(cls).items():
        held = fields.get(name)
        if held is not None:
            fields[name] = ([_message(inner, item) for item in held] if many
                            else _message(inner, held))
    return cls(**fields)


class _Messages(JSONTypeConverter):
    """Reads the run's messages (and lists of them); leaves other types to the SDK."""

    def to_typed_value(self, hint: type, value: Any) -> Any:
        if hint in MESSAGES:
            return _message(hint, value)
        if typing.get_origin(hint) is list and typing.get_args(hint)[0] in MESSAGES:
            return [_message(typing.get_args(hint)[0], item) for item in value]
        return JSONTypeConverter.Unhandled


class _Encoder(AdvancedJSONEncoder):
    """Writes a dataclass as its fields (nested ones as theirs), without copying."""

    def default(self, o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {field.name: getattr(o, field.name) for field in dataclasses.fields(o)}
        return super().default(o)


class _Payloads(CompositePayloadConverter):
    """The SDK's default converters with the JSON one made for the run's messages."""

    def __init__(self) -> None:
        plain = JSONPlainPayloadConverter(encoder=_Encoder, custom_type_converters=[_Messages()])
        super().__init__(*(plain if isinstance(each, JSONPlainPayloadConverter) else each
                           for each in DefaultPayloadConverter.default_encoding_payload_converters))


DATA_CONVERTER = dataclasses.replace(DataConverter.default, payload_converter_class=_Payloads)
"""The converter of every client and worker of ail-tui's runs."""


async def connect(target: TemporalTarget) -> Client:
    """A client of ``target``'s service and namespace that speaks the run's messages."""
    return await Client.connect(target.address, namespace=target.namespace,
                                data_converter=DATA_CONVERTER)
