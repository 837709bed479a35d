"""Credentials never leave the engine unmasked: not in events, not in the turn log."""

from __future__ import annotations

import json

import pytest

from ail_tui.credentials import MASK, SecretSet
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


def test_redact_event_keeps_the_event_when_nothing_matches() -> None:
    secrets = SecretSet()
    secrets.add(TOKEN)
    plain = ev.StepOutput(step_id="a", stream="stdout", text="hello")
    assert ev.redact_event(plain, secrets) is plain
    masked = ev.redact_event(ev.RunnerEvent(step_id="a", event={
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
