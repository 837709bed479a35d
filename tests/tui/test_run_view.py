"""The run view folds engine events into what the panes show."""

from __future__ import annotations

from ail_tui.engine import events as ev
from ail_tui.tui.event_lines import event_line
from ail_tui.tui.run_view import RunView, StepRow
from ail_tui.tui.widgets.details import details_text
from ail_tui.tui.widgets.steps_table import cells


def delta(step: str, text: str) -> ev.RunnerEvent:
    return ev.RunnerEvent(step_id=step, event={"type": "stream_delta", "text": text})


def test_streamed_text_is_interleaved_by_line_not_by_chunk() -> None:
    view = RunView()
    for event in (delta("a", "Lint"), delta("a", "ing is "), delta("a", "clean.\nNext"),
                  delta("b", "Tests pass"), delta("a", " line"),
                  ev.StepOutput(step_id="c", stream="stderr", text="warning"),
                  delta("b", "ed.\n")):
        view.apply(event)
    assert list(view.interleaved) == [
        ("a", "Linting is clean."), ("a", "Next"), ("b", "Tests pass"), ("a", " line"),
        ("c", "[stderr] warning"), ("b", "ed."), ("b", "")]
    assert view.interleaved_total == 7
    assert list(view.rows["a"].output) == ["Linting is clean.", "Next line"]
    assert list(view.rows["b"].output) == ["Tests passed.", ""]


def runner(step: str, **event: object) -> ev.RunnerEvent:
    return ev.RunnerEvent(step_id=step, event=dict(event))


RETRY = {"type": "retry", "attempt": 3, "max_retries": 10, "delay_s": 4.2, "status": 429,
         "reason": "HTTP 429 rate_limit"}


def test_an_api_retry_shows_until_the_api_answers() -> None:
    view = RunView()
    view.apply(ev.StepStarted(step_id="ask", step_index=0, total_steps=1, attempt=1))
    view.apply(runner("ask", **RETRY))
    row = view.rows["ask"]
    assert cells(row)[0] == "↻ api 3/10"
    assert details_text(row).splitlines()[1] == "API retry 3/10 in 4.2 s (HTTP 429 rate_limit)"
    line = event_line(runner("ask", **RETRY), None)
    assert "runner='retry' note='API retry 3/10 in 4.2 s (HTTP 429 rate_limit)'" in line
    view.apply(runner("ask", type="usage", input_tokens=120, output_tokens=7))
    assert row.api_retry is not None and (row.input_tokens, row.output_tokens) == (120, 7)
    view.apply(delta("ask", "Hello"))
    assert row.api_retry is None and cells(row)[0] == "▶ running"
    view.apply(runner("ask", **RETRY))
    view.apply(ev.StepFailed(step_id="ask", error="x", error_type="ail:runner/rate-limited"))
    assert row.api_retry is None and cells(row)[0] == "✗ failed"


def test_tool_errors_denials_subagents_and_progress_in_details() -> None:
    view = RunView()
    view.apply(ev.StepStarted(step_id="ask", step_index=0, total_steps=1, attempt=1))
    for event in (
        {"type": "tool_use", "tool_name": "Task", "tool_id": "t1", "input": "{}"},
        {"type": "subagent_text", "parent_tool_id": "t1", "text": "Looking.\nMore."},
        {"type": "tool_use", "tool_name": "Glob", "tool_id": "t2", "input": "{}",
         "parent_tool_id": "t1"},
        {"type": "tool_progress", "tool_id": "t2", "tool_name": "Glob", "elapsed_s": 1.5,
         "parent_tool_id": "t1"},
        {"type": "tool_result", "tool_id": "t2", "content": "no match", "is_error": True,
         "parent_tool_id": "t1"},
        {"type": "tool_result", "tool_id": "t1", "content": "done"},
        {"type": "warning", "message": "claude denied Bash(rm -rf x): allow it with "
                                       "tools: {allow: [Bash]}"},
        {"type": "info", "kind": "status", "message": "claude is requesting"},
        {"type": "info", "kind": "compact_boundary", "message": "conversation compacted"},
    ):
        view.apply(runner("ask", **event))
    text = details_text(view.rows["ask"])
    assert ("→ Task {}  [t1]\n"
            "    ✎ Looking. (+1 lines)\n"
            "    → Glob {}  [t2]  ⏱ 1.5 s\n"
            "    ✗ ← no match  [t2]\n"
            "← done  [t1]") in text
    assert "⚠ claude denied Bash(rm -rf x): allow it with tools: {allow: [Bash]}" in text
    assert "· conversation compacted" in text and "requesting" not in text


def test_turn_log_tool_events_show_denials_and_the_model() -> None:
    view = RunView()
    view.apply(ev.StepStarted(step_id="ask", step_index=0, total_steps=1, attempt=1))
    tools = [{"event_type": "tool_call", "tool_name": "Write", "tool_id": "w1",
              "content_json": '{"file_path":"out.txt"}', "seq": 0, "denied": True},
             {"event_type": "tool_result", "tool_name": "", "tool_id": "w1",
              "content_json": "Claude requested permissions", "seq": 1, "is_error": True}]
    view.apply(runner("ask", type="completed", response="no", tool_events=tools,
                      model="claude-opus-5-5"))
    view.apply(ev.StepCompleted(step_id="ask", model="claude-opus-5-5"))
    text = details_text(view.rows["ask"])
    assert '✗ → Write {"file_path":"out.txt"}  [w1] denied' in text
    assert "✗ ← Claude requested permissions  [w1]" in text
    assert "model: claude-opus-5-5" in text


def test_reused_and_reconciled_steps_have_a_glyph_and_a_word() -> None:
    from ail_tui.tui.run_view import FINISHED, GLYPH
    from ail_tui.tui.widgets.status_bar import status_text
    from ail_tui.tui.widgets.timeline import render_timeline

    view = RunView()
    view.apply(ev.RunStarted(at=100.0, pipeline_source=None, run_id="run-2", total_steps=3))
    view.apply(ev.StepCompleted(at=100.1, step_id="lint", reused_from="run-1", response="ok"))
    view.apply(ev.StepStarted(at=100.2, step_id="deploy", step_index=1, total_steps=3,
                              resolved_prompt="reconcile: ./deployed?"))
    view.apply(ev.StepCompleted(at=100.5, step_id="deploy", reconciled=True, response="v2"))
    view.apply(ev.StepCompleted(at=100.6, step_id="ship", response="shipped"))
    lint, deploy = view.rows["lint"], view.rows["deploy"]
    assert (cells(lint)[0], cells(deploy)[0]) == ("↺ reused", "⇌ reconciled")
    assert {"reused", "reconciled"} <= FINISHED and len(set(GLYPH.values())) == len(GLYPH)
    assert (lint.reused_from, lint.attempts, lint.history) == ("run-1", 0,
                                                               ["reused from run run-1"])
    assert deploy.history == ["attempt 1: reconciled"]
    assert details_text(lint, "run-2").splitlines()[1] == (
        "reused from run run-1 (not run again)")
    assert details_text(lint, "run-1").splitlines()[1] == (
        "reused from run run-1, before it was resumed (not run again)")
    assert details_text(deploy).splitlines()[1] == (
        "recovered by its reconcile command after the run stopped while it was running "
        "(not run again)")
    assert "ship · step · ✓ done\nlaunched" in details_text(view.rows["ship"])
    bar = status_text("p.ail.yaml", None, 0.0, view, 101.0).plain
    assert "✓1 done  ↺1 reused  ⇌1 reconciled" in bar
    timeline = render_timeline(view, 80, now=101.0).plain
    assert "lint   ↺ reused" in timeline and "deploy ⇌ reconciled" in timeline


def test_a_resumed_replay_keeps_its_first_start() -> None:
    view = RunView()
    view.apply(ev.RunStarted(at=100.0, pipeline_source=None, run_id="r", total_steps=1))
    view.apply(ev.PipelineError(at=101.0, error="crashed", error_type="", status="interrupted"))
    view.apply(ev.RunStarted(at=200.0, pipeline_source=None, run_id="r", total_steps=1,
                             resumed=True))
    assert (view.state, view.started_at, view.finished_at, view.error, view.resumed) == (
        "running", 100.0, None, None, True)
    live = RunView()  # a live resume begins on a new view: it starts then
    live.apply(ev.RunStarted(at=200.0, pipeline_source=None, run_id="r", total_steps=1,
                             resumed=True))
    assert (live.started_at, live.resumed) == (200.0, True)
    line = event_line(ev.RunStarted(at=200.0, pipeline_source=None, run_id="r",
                                    total_steps=1, resumed=True), 100.0)
    assert "run_started                           resumed=True run_id='r'" in line


def test_rows_read_from_elsewhere_replace_their_namesake_or_come_last() -> None:
    view = RunView()
    for event in (ev.StepStarted(step_id="sub", step_index=0, total_steps=2),
                  ev.StepStarted(step_id="next", step_index=1, total_steps=2)):
        view.apply(event)
    view.add_rows([StepRow("sub::fetch", "shell", "done"), StepRow("sub", "pipeline", "done")])
    assert list(view.rows) == ["sub", "next", "sub::fetch"]
    assert (view.rows["sub"].kind, view.rows["sub"].status) == ("pipeline", "done")
    assert view.counts() == {"done": 2, "running": 1}
