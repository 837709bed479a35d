"""The real program in a real terminal: tmux types keys and reads the screen."""

from __future__ import annotations

import uuid
from pathlib import Path

from loopback_server import LoopbackServer
from processes import TAG_VARIABLE, none_tagged_within
from tmux_session import ROOT, Tmux, needs_tmux, program

pytestmark = needs_tmux

VALID = """version: "1"
pipeline:
  - id: quick
    async: true
    context: {shell: "echo quick done"}
  - id: slow
    async: true
    context: {shell: "sleep 30"}
  - id: all
    action: join
    depends_on: [quick, slow]
"""
INVALID = VALID.replace("action: join", "action: jion")


def test_edit_save_validate_run_cancel_quit(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.ail.yaml"
    pipeline.write_text(VALID)
    tag = f"tmux-e2e-{uuid.uuid4().hex}"
    term = Tmux(tmp_path)
    try:
        term.start(program(tmp_path, tmp_path, "p.ail.yaml", "--stub-response", "ok",
                           **{TAG_VARIABLE: tag}))  # every process it starts carries the tag
        term.wait_for("✓ valid")
        assert "slow" in term.screen()

        pipeline.write_text(INVALID)
        term.wait_for("✗ invalid")
        screen = term.wait_for("p.ail.yaml:10:13")  # the problem, at its line and column
        assert "jion" in screen

        pipeline.write_text(VALID)
        term.wait_for("✓ valid")

        term.keys("r")
        term.wait_for("running")
        term.wait_for("✓ done")  # quick finished while slow still runs
        term.keys("c")
        screen = term.wait_for("cancelled", timeout=10)
        assert "⊘" in screen

        term.keys("q")
        term.wait_shell()
    finally:
        term.close()
    assert none_tagged_within(tag, 3.0) == []  # the cancelled sleep 30 included


def test_text_streams_from_an_openai_compatible_server_into_a_real_terminal(
        tmp_path: Path) -> None:
    server = LoopbackServer()
    server.scenario.mode = "sse"
    server.scenario.chunks = [f"streamed{i} " for i in range(16)]
    server.scenario.chunk_delay = 0.2
    server.start()
    term = Tmux(tmp_path)
    try:
        term.start(program(ROOT, tmp_path, "sample_pipelines/local_llm_review.ail.yaml",
                           AIL_HTTP_BASE_URL=server.base_url), width=150, height=32)
        term.wait_for("✓ valid")
        term.keys("t", "t", "t", "t", "t")  # timeline → … → plan
        term.wait_for("✓ ollama")  # the check runs in the background
        term.keys("t", "t")  # plan → timeline → output
        term.keys("r")
        term.wait_for("▶ running")
        term.keys("j")  # the summary branch
        screen = term.wait_for("streamed3")
        assert "summary · prompt · ▶ running" in screen  # text shown while it streams
        assert "streamed15" not in screen
        term.wait_for("✓ completed", timeout=20)  # the run's summary opens at its end
        term.keys("Escape")
        term.wait_for("✓ done verdict")
        term.wait_for("36/102 tok")  # three answers of 12 + 34 tokens, in the header
        term.keys("q")
    finally:
        term.close()
        server.stop()
    assert len(server.requests) == 3
