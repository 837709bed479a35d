"""The summary of a run: its critical path (table-driven), counts, and runner totals."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ail_tui.pipeline.loader import load_pipeline
from ail_tui.run_summary import (
    critical_path,
    seconds_text,
    step_runners,
    summarize,
)
from ail_tui.tui.run_view import RunView, StepRow

T0 = 1_000_000.0


@dataclass
class S:
    """A step of a case: when it was queued, started and finished (seconds after T0)."""

    step_id: str
    start: float | None
    end: float | None
    status: str = "done"
    after: tuple[str, ...] = ()
    queued: float | None = None
    kind: str = "shell"


def view_of(steps: list[S], state: str = "completed", end: float | None = None) -> RunView:
    view = RunView(run_id="0123456789abcdef", state=state, started_at=T0,
                   finished_at=None if end is None else T0 + end)
    for s in steps:
        queued = s.queued if s.queued is not None else s.start
        view.rows[s.step_id] = StepRow(
            s.step_id, s.kind, status=s.status, depends_on=s.after,
            launched_at=None if queued is None else T0 + queued,
            started_at=None if s.start is None else T0 + s.start,
            completed_at=None if s.end is None else T0 + s.end, attempts=int(s.start is not None))
    return view


CASES = {
    "sequential": (
        [S("a", 0, 1), S("b", 1, 3), S("c", 3, 4)],
        [("a", 0, 1), ("b", 1, 2), ("c", 3, 1)]),
    "parallel branches and a join": (
        [S("slow", 0, 5), S("quick", 0, 2), S("after_quick", 2, 3, after=("quick",)),
         S("join", 5, 5.5, after=("slow", "after_quick"), kind="join"), S("last", 5.5, 6)],
        [("slow", 0, 5), ("join", 5, 0.5), ("last", 5.5, 0.5)]),
    "the longer branch through a dependency": (
        [S("quick", 0, 1), S("build", 0, 2), S("deploy", 2, 4.5, after=("build",)),
         S("join", 4.5, 4.5, after=("quick", "deploy"), kind="join")],
        [("build", 0, 2), ("deploy", 2, 2.5), ("join", 4.5, 0)]),
    "a cancelled branch and one cancelled before it started": (
        [S("quick", 0, 1), S("hung", 0, 3, status="cancelled"),
         S("smoke", None, 3, status="cancelled", after=("hung",), queued=0),
         S("join", 3, 3.1, after=("quick", "hung", "smoke"), kind="join"),
         S("last", 3.1, 4)],
        [("hung", 0, 3), ("join", 3, 0.1), ("last", 3.1, 0.9)]),
    "a failed run": (
        [S("a", 0, 1), S("b", 1, 2.5, status="failed"), S("c", None, None, status="pending")],
        [("a", 0, 1), ("b", 1, 1.5)]),
    "a step that waited for a concurrency slot": (
        [S("one", 0, 1), S("two", 0, 0.5), S("three", 0.5, 2, queued=0)],
        [("two", 0, 0.5), ("three", 0.5, 1.5)]),
    "inner steps are left out": (
        [S("loop", 0, 3, kind="loop"), S("loop::body", 2, 3.5)],
        [("loop", 0, 3)]),
    "nothing started": (
        [S("a", None, None, status="pending")],
        []),
}


@pytest.mark.parametrize("steps,expected", CASES.values(), ids=CASES.keys())
def test_the_critical_path(steps: list[S], expected: list[tuple[str, float, float]]) -> None:
    summary = summarize(view_of(steps), now=T0 + 100)
    got = [(p.step_id, round(p.offset, 3), round(p.duration, 3))
           for p in summary.critical_path]
    assert got == expected
    assert summary.critical_seconds == pytest.approx(sum(d for _, _, d in expected))


def test_the_critical_path_starts_at_the_first_step_without_a_run_start() -> None:
    summary = summarize(view_of([S("a", 2, 3), S("b", 3, 5)]), now=T0 + 10)
    assert critical_path(summary.steps, None)[0].offset == 0.0
    assert [p.step_id for p in critical_path(summary.steps, None)] == ["a", "b"]


def test_how_the_run_ended_and_its_steps_by_status() -> None:
    view = view_of([S("a", 0, 1), S("b", 1, 2.5, status="failed"),
                    S("c", None, None, status="pending"), S("d", 0, 2, status="cancelled")],
                   state="failed", end=2.6)
    view.error, view.error_type = "step b failed", "ail:runner/invocation-failed"
    view.rows["b"].error = "exit 2"
    view.rows["c"].not_run = "the run failed before it reached this step"
    view.rows["d"].cancelled_by = "user"
    summary = summarize(view, now=T0 + 100, pipeline="p.ail.yaml")
    assert (summary.status, summary.error, summary.pipeline) == (
        "failed", "step b failed", "p.ail.yaml")
    assert summary.wall_seconds == pytest.approx(2.6)
    assert summary.counts == {"done": 1, "failed": 1, "cancelled": 1, "not run": 1}
    assert list(summary.counts) == ["done", "failed", "cancelled", "not run"]
    assert [(s.step_id, s.error, s.cancelled_by) for s in summary.problems] == [
        ("b", "exit 2", None), ("d", None, "user")]


def test_a_running_run_counts_up_to_now() -> None:
    summary = summarize(view_of([S("a", 0, None, status="running")], state="running"),
                        now=T0 + 7)
    assert summary.wall_seconds == pytest.approx(7)
    assert summary.steps[0].elapsed == pytest.approx(7)
    assert summary.finished_at is None


def test_cost_and_tokens_by_runner_and_model() -> None:
    view = view_of([S("lint", 0, 1), S("ask", 1, 2, kind="prompt"),
                    S("ask_again", 2, 3, kind="prompt"), S("other", 3, 4, kind="prompt"),
                    S("join", 4, 4, kind="join"), S("local", 4, 5, kind="prompt")])
    for step_id, model, cost, tokens in (("ask", "opus", 0.5, (100, 10)),
                                         ("ask_again", "opus", 0.25, (50, 5)),
                                         ("other", "haiku", 0.01, (7, 3)),
                                         ("local", "llama", None, (9, 1))):
        row = view.rows[step_id]
        row.model, row.cost_usd = model, cost
        row.input_tokens, row.output_tokens = tokens
    summary = summarize(view, now=T0 + 10, runners={"ask": "claude", "ask_again": "claude",
                                                     "other": "claude", "local": "ollama"})
    got = [(r.runner, r.model, r.steps, r.cost_usd, r.input_tokens, r.output_tokens)
           for r in summary.runners]
    assert got == [("shell", None, 1, None, 0, 0), ("claude", "opus", 2, 0.75, 150, 15),
                   ("claude", "haiku", 1, 0.01, 7, 3), ("—", None, 1, None, 0, 0),
                   ("ollama", "llama", 1, None, 9, 1)]
    assert summary.cost_usd == pytest.approx(0.76)


def test_the_runner_of_each_prompt_step(tmp_path) -> None:
    path = tmp_path / "p.ail.yaml"
    path.write_text('version: "1"\npipeline:\n  - id: ask\n    prompt: hi\n'
                    "  - id: local\n    prompt: hi\n    runner: Ollama\n"
                    '  - id: sh\n    context: {shell: "true"}\n', encoding="utf-8")
    pipeline = load_pipeline(path).pipeline
    assert step_runners(pipeline, "stub") == {"ask": "stub", "local": "ollama"}
    assert step_runners(None, "stub") == {}


@pytest.mark.parametrize("seconds,text", [(None, "—"), (0.04, "0.0 s"), (12.34, "12.3 s"),
                                          (125, "2 m 05 s"), (3725, "1 h 02 m")])
def test_seconds_as_people_read_them(seconds: float | None, text: str) -> None:
    assert seconds_text(seconds) == text
