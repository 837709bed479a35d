"""Whole pipelines with parallel prompt branches on the real runners' protocol peers.

Branches run through the fake ``claude`` and the loopback OpenAI-compatible server at
once: streamed text, tokens and cost reach the events and the turn log, cancelling a
branch mid-stream stops it within a second, and no credential is ever written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from event_recorder import Recorder
from loopback_server import LoopbackServer

from ail_tui.engine import events as ev
from ail_tui.engine.local_run import LocalRun
from ail_tui.engine.run_types import RunOptions
from ail_tui.pipeline.validation import check_file

TOKEN = "sk-pipeline-secret-5150"

STEPS = """
  - id: ask_claude
    async: true
    runner: claude
    prompt: "[scenario:{claude}] count the tests"
  - id: ask_http
    async: true
    runner: http
    prompt: "say hello"
  - id: ask_ollama
    async: true
    runner: ollama
    prompt: "say hello again"
  - id: both
    action: join
    depends_on: [ask_claude, ask_http, ask_ollama]
    on_error: wait_for_all
"""


def executor(tmp_path: Path, server: LoopbackServer, claude: str,
             recorder: Recorder) -> LocalRun:
    path = tmp_path / "p.ail.yaml"
    steps = STEPS.lstrip("\n").format(claude=claude)
    path.write_text(server.pipeline_head(TOKEN) + steps, encoding="utf-8")
    loaded = check_file(path)
    assert loaded.pipeline is not None and loaded.valid, loaded.errors
    options = RunOptions(log_dir=tmp_path / "runs", cwd=str(tmp_path), sync_log=False)
    run = LocalRun(loaded.pipeline, options)
    run.subscribe(recorder)
    return run


def records(path: Path | None) -> list[dict[str, Any]]:
    assert path is not None
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def peers(fake_claude_bin: Path, http_server: LoopbackServer) -> LoopbackServer:
    http_server.scenario.mode = "sse"
    http_server.scenario.chunks = ["Hel", "lo ", "from ", "loopback"]
    http_server.scenario.chunk_delay = 0.05
    http_server.scenario.usage = (12, 34)
    return http_server


def test_parallel_branches_stream_and_account_on_both_runners(
        tmp_path: Path, peers: LoopbackServer) -> None:
    recorder = Recorder()
    result = executor(tmp_path, peers, "full", recorder).start().wait(60)
    assert result is not None and result.status == "completed", result

    deltas: dict[str, str] = {}
    for event in recorder.events:
        if isinstance(event, ev.RunnerEvent) and event.event["type"] == "stream_delta":
            deltas[event.step_id] = deltas.get(event.step_id, "") + event.event["text"]
    assert deltas["ask_http"] == deltas["ask_ollama"] == "Hello from loopback"
    assert "There are **2** test files." in deltas["ask_claude"]
    # Both HTTP branches were on the wire at the same time.
    assert len(peers.requests) == 2
    assert {r.body["model"] for r in peers.requests} == {"loop-model"}
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in peers.requests)

    entries = {r["step_id"]: r for r in records(result.log_path) if "type" not in r}
    claude, http = entries["ask_claude"], entries["ask_http"]
    assert (claude["input_tokens"], claude["output_tokens"]) == (10, 120)  # the result's
    assert claude["model"] == "claude-sonnet-4-5-20250929"  # as the CLI reported it
    assert claude["cost_usd"] == pytest.approx(0.0241875)
    assert claude["runner_session_id"] == "5f0c1e2a-8b7d-4c3e-9a61-2d4b7e9f0a13"
    assert [t["event_type"] for t in claude["tool_events"]] == [
        "tool_call", "tool_result", "tool_call", "tool_result"]
    assert "Two files, one shown." in claude["thinking"]
    assert (http["input_tokens"], http["output_tokens"]) == (12, 34)
    assert http["cost_usd"] == pytest.approx(12 / 1000 * 0.5 + 34 / 1000 * 1.5)
    assert http["response"] == "Hello from loopback"
    assert entries["ask_claude"]["concurrent_group"] == http["concurrent_group"]

    log_text = result.log_path.read_text(encoding="utf-8")
    shown = json.dumps([e.to_json() for e in recorder.events])
    assert TOKEN not in log_text and TOKEN not in shown


@pytest.mark.parametrize("branch", ["ask_claude", "ask_http"])
def test_cancelling_a_branch_mid_stream_stops_it_within_a_second(
        tmp_path: Path, peers: LoopbackServer, branch: str) -> None:
    peers.scenario.chunks = [f"piece {i} " for i in range(100)]
    peers.scenario.chunk_delay = 0.2  # twenty seconds of stream
    recorder = Recorder()
    run = executor(tmp_path, peers, "hang", recorder).start()
    recorder.wait_for(lambda e: isinstance(e, ev.RunnerEvent) and e.step_id == branch
                      and e.event["type"] == "stream_delta")
    asked = time.monotonic()
    assert run.cancel_step(branch)
    cancelled = recorder.wait_for(
        lambda e: isinstance(e, ev.StepCancelled) and e.step_id == branch)
    took = time.monotonic() - asked
    assert took < 1.0, f"{branch} took {took:.2f} s to stop"
    assert cancelled.cancelled_by == "user"
    run.cancel()  # the other branches are still streaming
    assert run.wait(10) is not None
    if branch == "ask_http":
        assert peers.disconnected.wait(1.0), "the server still has the connection"
    kinds = [r.get("type") for r in records(run.log_path)]
    assert "step_cancelled" in kinds and kinds[-1] == "run_finished"


def test_the_local_llm_sample_runs_against_an_openai_compatible_server(
        tmp_path: Path, http_server: LoopbackServer) -> None:
    root = Path(__file__).resolve().parents[2]
    http_server.scenario.mode = "sse"
    env = {**os.environ, "AIL_HTTP_BASE_URL": http_server.base_url,
           "AIL_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "ail_tui", "run", "sample_pipelines/local_llm_review.ail.yaml",
         "--headless"], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[-1]["type"] == "pipeline_completed"
    streamed = {e["step_id"] for e in events if e["type"] == "runner_event"
                and e["event"]["type"] == "stream_delta"}
    assert streamed == {"summary", "risks", "verdict"}
    assert [r.body["model"] for r in http_server.requests] == ["llama3.2"] * 3
    assert "def " in http_server.requests[0].body["messages"][-1]["content"]  # the module


def test_a_resumed_http_step_continues_the_previous_conversation(
        tmp_path: Path, http_server: LoopbackServer) -> None:
    http_server.scenario.mode = "sse"
    path = tmp_path / "p.ail.yaml"
    path.write_text(textwrap.dedent(f"""
        version: "1"
        defaults:
          model: loop-model
          provider: {{base_url: "{http_server.base_url}"}}
        pipeline:
          - id: first
            runner: http
            system_prompt: "You are terse."
            prompt: "remember the number 7"
          - id: second
            runner: http
            resume: true
            prompt: "which number?"
        """), encoding="utf-8")
    loaded = check_file(path)
    assert loaded.pipeline is not None and loaded.valid
    options = RunOptions(log_dir=tmp_path / "runs", cwd=str(tmp_path), sync_log=False)
    result = LocalRun(loaded.pipeline, options).start().wait(60)
    assert result is not None
    assert result.status == "completed"
    first, second = (r.body["messages"] for r in http_server.requests)
    assert first == [{"role": "system", "content": "You are terse."},
                     {"role": "user", "content": "remember the number 7"}]
    assert second == [*first, {"role": "assistant", "content": "Hello there"},
                      {"role": "user", "content": "which number?"}]
    entries = [r for r in records(result.log_path) if "type" not in r]
    assert entries[0]["runner_session_id"] == entries[1]["runner_session_id"]
