"""Credentials never leave the engine unmasked: not in events, not in the turn log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ail_tui.credentials import MASK, SecretSet, StreamRedactor
from ail_tui.engine import events as ev

TOKEN = "sk-test-4f9c2e7a1b"


def test_secret_set_masks_known_values_everywhere_in_a_value() -> None:
    secrets = SecretSet()
    assert secrets.redact_value({"a": TOKEN}) == {"a": TOKEN}  # nothing known yet
    secrets.add(TOKEN)
    secrets.add("abc")  # too short to be treated as a secret
    secrets.add(None)
    value = {"a": f"Bearer {TOKEN}", "b": [TOKEN, 3, ("x", TOKEN)], "abc": "abc"}
    assert secrets.redact_value(value) == {
        "a": f"Bearer {MASK}", "b": [MASK, 3, ("x", MASK)], "abc": "abc"}


def test_a_secret_containing_another_is_masked_whole() -> None:
    secrets = SecretSet()
    secrets.add("secret-12")
    secrets.add("secret-12345")
    assert secrets.redact("k=secret-12345") == f"k={MASK}"


def test_environment_credentials_are_known() -> None:
    secrets = SecretSet()
    secrets.add_environment({"AIL_HTTP_TOKEN": TOKEN, "HOME": "/home/someone"})
    assert secrets.redact(f"{TOKEN} /home/someone") == f"{MASK} /home/someone"


def test_announced_keeps_the_event_when_nothing_matches() -> None:
    secrets = SecretSet()
    secrets.add(TOKEN)
    plain = ev.StepOutput(step_id="a", stream="stdout", text="hello")
    assert ev.announced(plain, secrets) is plain
    masked = ev.announced(ev.RunnerEvent(step_id="a", event={
        "type": "stream_delta", "text": f"the token is {TOKEN}"}), secrets)
    assert masked.event == {"type": "stream_delta", "text": f"the token is {MASK}"}


@pytest.mark.parametrize("where", ["provider", "environment"])
def test_a_run_never_shows_a_credential(run_pipeline, monkeypatch, where: str) -> None:
    token = f"{TOKEN}-{where}"
    provider = ""
    if where == "provider":
        provider = f"defaults:\n  provider:\n    auth_token: {token}\n"
    else:
        monkeypatch.setenv("AIL_HTTP_TOKEN", token)
    run = run_pipeline(f"""
version: "1"
{provider}pipeline:
  - id: leak
    context:
      shell: "echo token={token}; echo {token} >&2"
  - id: echo
    prompt: "repeat {{{{ step.leak.result }}}} and {token}"
""")
    shown = json.dumps([e.to_json() for e in run.events]) + json.dumps(run.records)
    assert token not in shown
    assert f"token={MASK}" in shown  # the output itself is still there, masked
    assert run.result.log_path is not None
    assert token not in run.result.log_path.read_text(encoding="utf-8")


# --- secrets split across streamed deltas ------------------------------------------------------

class Sink(list[dict[str, Any]]):
    """Collects the events a redactor passes on."""

    def __call__(self, event: dict[str, Any]) -> None:
        self.append(event)

    def joined(self, kind: str) -> str:
        return "".join(e["text"] for e in self if e["type"] == kind)


# A small alphabet makes secrets overlap, contain each other and follow each other closely.
SECRET = st.text(alphabet="ab-9", min_size=6, max_size=12)


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[str], str, list[str]]:
    """Secrets, a text holding some of them, and the text cut into arbitrary pieces."""
    secrets = draw(st.lists(SECRET, min_size=1, max_size=3))
    parts = draw(st.lists(st.one_of(st.sampled_from(secrets), st.text("ab-9 x", max_size=8)),
                          max_size=8))
    text = "".join(parts)
    cuts = sorted(draw(st.sets(st.integers(0, len(text)))))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return secrets, text, pieces


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(streams())
def test_any_split_of_a_stream_joins_to_the_masked_whole(
        stream: tuple[list[str], str, list[str]]) -> None:
    values, text, pieces = stream
    secrets, sink = SecretSet(values), Sink()
    with StreamRedactor(sink, secrets) as send:
        for piece in pieces:
            send({"type": "stream_delta", "text": piece})
    joined = sink.joined("stream_delta")
    assert joined == secrets.redact(text)
    assert not any(value in joined for value in values)
    assert all(e["text"] for e in sink)  # nothing empty is passed on


@pytest.mark.timeout(60)
@settings(max_examples=200, deadline=None)
@given(streams(), streams(), st.lists(st.booleans(), max_size=30))
def test_interleaved_text_and_thinking_streams_are_masked_each_on_its_own(
        reply: tuple[list[str], str, list[str]], thought: tuple[list[str], str, list[str]],
        order: list[bool]) -> None:
    secrets, sink = SecretSet([*reply[0], *thought[0]]), Sink()
    queues = {"stream_delta": list(reply[2]), "thinking": list(thought[2])}
    with StreamRedactor(sink, secrets) as send:
        for take_thought in [*order, *[False] * len(reply[2]), *[True] * len(thought[2])]:
            kind = "thinking" if take_thought else "stream_delta"
            if queues[kind]:
                send({"type": kind, "text": queues[kind].pop(0)})
    assert sink.joined("stream_delta") == secrets.redact(reply[1])
    assert sink.joined("thinking") == secrets.redact(thought[1])


@pytest.mark.timeout(10)
def test_only_a_possible_start_of_a_secret_is_held_until_the_next_other_event() -> None:
    secrets, sink = SecretSet([TOKEN]), Sink()
    send = StreamRedactor(sink, secrets)
    send({"type": "stream_delta", "text": f"key {TOKEN[:5]}"})
    send({"type": "thinking", "text": f"ok {TOKEN[:3]}"})  # another stream, held apart
    assert sink == [{"type": "stream_delta", "text": "key "},  # cannot start a secret
                    {"type": "thinking", "text": "ok "}]
    send({"type": "stream_delta", "text": f"{TOKEN[5:]} and s"})
    assert sink[2:] == [{"type": "stream_delta", "text": f"{MASK} and "}]
    send({"type": "tool_use", "tool_name": "Read"})
    assert sink[3:] == [{"type": "stream_delta", "text": "s"},
                        {"type": "thinking", "text": TOKEN[:3]},
                        {"type": "tool_use", "tool_name": "Read"}]
    send({"type": "stream_delta", "text": f"{TOKEN[:4]}"})
    send.flush()
    assert sink.joined("stream_delta") == f"key {MASK} and s{TOKEN[:4]}"
    assert sink[-1] == {"type": "stream_delta", "text": TOKEN[:4]}


WITH_TOKEN = f"""\
version: "1"
defaults:
  provider:
    auth_token: {TOKEN}
pipeline:
"""
"""A pipeline whose provider's auth token is TOKEN; its steps follow."""


@pytest.mark.timeout(30)
def test_a_secret_split_across_stub_chunks_is_masked_in_the_events(run_pipeline) -> None:
    response = f"first {TOKEN} then {TOKEN}."
    run = run_pipeline(WITH_TOKEN + """
  - id: talk
    prompt: "say it"
""", script={"steps": {"talk": {"response": response, "chunks": 12}}})
    events = [e.event for e in run.of(ev.RunnerEvent) if e.step_id == "talk"]
    deltas = [e["text"] for e in events if e["type"] == "stream_delta"]
    assert len(deltas) > 2
    joined = "".join(deltas)
    assert TOKEN not in joined
    assert joined == f"first {MASK} then {MASK}." == events[-1]["response"]
    assert events[-1]["type"] == "completed"  # every delta came before it


@pytest.mark.timeout(30)
def test_shell_output_masks_a_secret_written_in_pieces(run_pipeline) -> None:
    run = run_pipeline(WITH_TOKEN + f"""
  - id: leak
    context:
      shell: "printf 'token=%s' '{TOKEN[:7]}'; printf '%s\\n' '{TOKEN[7:]}'"
""")
    assert [e.text for e in run.of(ev.StepOutput)] == [f"token={MASK}"]
