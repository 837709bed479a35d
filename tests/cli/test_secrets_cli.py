"""Secrets never leak from the CLI: not from streamed deltas, not from quoted source lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback_server import LoopbackServer, _Handler

from ail_tui.cli import main
from ail_tui.credentials import MASK
from ail_tui.pipeline.validation import check_file
from ail_tui.tui.widgets.problems import render_problems

ROOT = Path(__file__).resolve().parents[2]
CLEARED = ("AIL_HTTP_BASE_URL", "AIL_HTTP_TOKEN", "AIL_HTTP_MODEL", "AIL_HTTP_THINK",
           "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def new_token() -> str:
    """A token no earlier test in this process can have made known."""
    return f"sk-live-{uuid.uuid4().hex[:20]}"


def ail(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["AIL_HOME"] = str(cwd / "home")
    return subprocess.run([sys.executable, "-m", "ail_tui", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=60, check=False)


def runner_events(stdout: str, kind: str) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return [e["event"] for e in events
            if e["type"] == "runner_event" and e["event"]["type"] == kind]


def joined(stdout: str, kind: str) -> str:
    return "".join(e["text"] for e in runner_events(stdout, kind))


# --- streamed text -------------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_stub_reply_in_twelve_chunks_never_shows_the_token(tmp_path: Path) -> None:
    token = new_token()
    pipeline = tmp_path / "p.ail.yaml"
    pipeline.write_text(f'version: "1"\ndefaults:\n  provider:\n    auth_token: {token}\n'
                        'pipeline:\n  - id: talk\n    prompt: "tell me the key"\n')
    script = tmp_path / "stub.yaml"
    script.write_text(f'steps:\n  talk: {{response: "the key is {token}, use {token}!", '
                      "chunks: 12}\n")
    done = ail("run", str(pipeline), "--headless", "--stub-script", str(script), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert token not in done.stdout
    assert len(runner_events(done.stdout, "stream_delta")) > 2
    masked = f"the key is {MASK}, use {MASK}!"
    assert joined(done.stdout, "stream_delta") == masked
    assert runner_events(done.stdout, "completed")[0]["response"] == masked


class _EchoAuthorization(_Handler):
    """Streams back the Authorization header it was sent, three characters per chunk,
    as the reply and as the thinking."""

    def _answer(self, body: dict[str, Any]) -> None:
        sent = self.headers.get("Authorization") or ""
        pieces = [sent[i : i + 3] for i in range(0, len(sent), 3)]
        scenario = self.server.scenario
        scenario.mode, scenario.chunks, scenario.thinking_chunks = "sse", pieces, pieces
        super()._answer(body)


@pytest.fixture
def echo_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    server.RequestHandlerClass = _EchoAuthorization
    server.start()
    yield server
    server.stop()


@pytest.mark.timeout(90)
def test_http_server_echoing_the_token_three_characters_at_a_time(
        tmp_path: Path, echo_server: LoopbackServer) -> None:
    token = new_token()
    pipeline = tmp_path / "p.ail.yaml"
    pipeline.write_text(echo_server.pipeline_head(token)
                        + '  - id: echo\n    runner: http\n    prompt: "echo"\n')
    done = ail("run", str(pipeline), "--headless", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [sent] = echo_server.requests
    assert sent.headers["Authorization"] == f"Bearer {token}"  # the server did see it
    assert token not in done.stdout
    assert len(runner_events(done.stdout, "stream_delta")) > 2
    assert joined(done.stdout, "stream_delta") == f"Bearer {MASK}"
    assert joined(done.stdout, "thinking") == f"Bearer {MASK}"
    [completed] = runner_events(done.stdout, "completed")
    assert completed["response"] == completed["thinking"] == f"Bearer {MASK}"


# --- quoted source lines ----------------------------------------------------------------------

HEAD = 'version: "1"\n'
STEP = 'pipeline:\n  - id: talk\n    prompt: "hi"\n'
CASES = {
    # where the token is written, and a text every report must still show
    "misplaced in defaults": ("defaults:\n  auth_token: {token}\n" + STEP,
                              "Unknown key 'auth_token' in defaults"),
    "misspelt key": ("defaults:\n  provider:\n    auth_tokn: {token}\n" + STEP,
                     "did you mean 'auth_token'?"),
    "misplaced in a step": (STEP + "    auth_token: {token}\n",
                            "Unknown key 'auth_token' in step 'talk'"),
    "wrong type": ("defaults:\n  provider:\n    auth_token: [{token}]\n" + STEP,
                   "must be a string, not a list"),
    "quoted by the detail": ("defaults:\n  provider:\n    auth_token: !!int {token}\n" + STEP,
                             "does not match its tag"),
    "other key names": ("defaults:\n  provider:\n    api_kye: '{token}'\n    pasword: {token}\n"
                        + STEP, "Unknown key 'pasword'"),
}


def write_case(tmp_path: Path, case: str) -> tuple[Path, str, str]:
    token = new_token()
    text, expected = CASES[case]
    path = tmp_path / "p.ail.yaml"
    path.write_text(HEAD + text.format(token=token), encoding="utf-8")
    return path, token, expected


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", list(CASES))
def test_validate_text_masks_the_token_in_quoted_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    path, token, expected = write_case(tmp_path, case)
    main(["validate", str(path)])
    out = capsys.readouterr().err  # text mode: diagnostics on stderr
    assert expected in out
    assert token not in out
    assert f": {MASK}" in out or f"[{MASK}]" in out  # the line is quoted, masked


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", list(CASES))
def test_validate_json_and_the_problems_pane_never_show_the_token(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    path, token, expected = write_case(tmp_path, case)
    main(["validate", "--format", "json", str(path)])
    report = capsys.readouterr().out
    assert expected in report and token not in report
    pane = render_problems(check_file(path), str(path)).plain
    assert expected in pane and token not in pane


@pytest.mark.timeout(30)
def test_caret_still_points_at_the_finding_after_a_masked_value(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = new_token()
    path = tmp_path / "p.ail.yaml"
    path.write_text(HEAD + f"defaults:\n  provider: {{auth_token: {token}, connect_timeout_seconds:"
                    " soon}\n" + STEP, encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    at = next(i for i, line in enumerate(lines) if "connect_timeout_seconds" in line) + 1
    shown, caret = lines[at], lines[at + 1]
    assert shown.endswith(f"provider: {{auth_token: {MASK}, connect_timeout_seconds: soon}}")
    assert shown[caret.index("^"):].startswith("soon}")


@pytest.mark.timeout(90)
def test_run_error_report_masks_the_token(tmp_path: Path) -> None:
    path, token, expected = write_case(tmp_path, "wrong type")
    done = ail("run", str(path), "--headless", "--stub-response", "ok", cwd=tmp_path)
    assert done.returncode == 1
    assert expected in done.stderr and MASK in done.stderr
    assert token not in done.stdout + done.stderr
