"""Comparing two runs: steps aligned by id, statuses, time and cost deltas, response
diffs — on our logs and on Rust-written ones."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from turn_records import RUN_STARTED, entry, error, rust_opening, started, ts, write

from ail_tui.run_compare import (
    MAX_DIFF_INPUT_CHARS,
    compare_logs,
    cost_delta_text,
    format_json,
    format_text,
    seconds_delta_text,
)


def ours(start: float, steps: list[dict[str, Any]], status: str = "completed",
         end: float = 10.0) -> list[dict[str, Any]]:
    """Our log: run_started at ``start``, ``steps``, run_finished ``status`` at ``end``."""
    return [{**RUN_STARTED, "at": ts(start)}, *steps,
            {"at": ts(start + end), "status": status, "type": "run_finished"}]


def done(step_id: str, response: str, took: float = 1.0, cost: float | None = 0.001,
         **fields: object) -> list[dict[str, Any]]:
    """A step started at 1 s that answered ``response`` after ``took`` seconds."""
    return [started(step_id, at=ts(1)),
            entry(step_id, response=response, cost_usd=cost, input_tokens=10,
                  output_tokens=5, started_at=ts(1), completed_at=ts(1 + took), **fields)]


def failed(step_id: str, took: float = 0.5) -> list[dict[str, Any]]:
    return [started(step_id, at=ts(1)), error(step_id, "abort_pipeline", at=ts(1 + took))]


@dataclass
class Case:
    a: list[dict[str, Any]]
    b: list[dict[str, Any]]
    order: list[str]
    presence: dict[str, str] = field(default_factory=dict)
    """Steps not in both runs (``added`` / ``removed``)."""
    status: dict[str, str] = field(default_factory=dict)
    """``A → B`` of the steps whose status changed."""
    responses: dict[str, str] = field(default_factory=dict)
    """The response word of the steps whose response is not ``same``."""
    elapsed: dict[str, float | None] = field(default_factory=dict)
    cost: dict[str, float | None] = field(default_factory=dict)


A_STEPS = [*done("plan", "Plan: 3 steps"), *done("review", "fine\nship it", took=2.0)]

CASES = {
    "same runs": Case(ours(0, A_STEPS), ours(100, A_STEPS), ["plan", "review"],
                      elapsed={"plan": 0.0, "review": 0.0}, cost={"plan": 0.0}),
    "a step failed in B": Case(
        ours(0, A_STEPS), ours(100, [*done("plan", "Plan: 3 steps"), *failed("review")],
                               "aborted"),
        ["plan", "review"], status={"review": "✓ done → ✗ failed"},
        responses={"review": "differs"}, elapsed={"review": -1.5}, cost={"review": None}),
    "added and removed steps": Case(
        ours(0, [*done("plan", "p"), *done("lint", "ok"), *done("review", "r")]),
        ours(100, [*done("setup", "s"), *done("plan", "p"), *done("review", "r")]),
        ["setup", "plan", "lint", "review"],
        presence={"setup": "added", "lint": "removed"},
        status={"setup": "— → ✓ done", "lint": "✓ done → —"},
        responses={"setup": "added", "lint": "removed"},
        elapsed={"setup": None, "lint": None}),
    "a removed first step stays first": Case(
        ours(0, [*done("old", "o"), *done("plan", "p")]), ours(100, done("plan", "p")),
        ["old", "plan"], presence={"old": "removed"}, status={"old": "✓ done → —"},
        responses={"old": "removed"}),
    "slower, dearer, different answer": Case(
        ours(0, done("review", "fine", took=1.0, cost=0.002)),
        ours(100, done("review", "not fine", took=3.5, cost=0.005)),
        ["review"], responses={"review": "differs"}, elapsed={"review": 2.5},
        cost={"review": 0.003}),
    "a reused result": Case(
        ours(0, done("plan", "p")), ours(100, done("plan", "p", reused_from="0ld")),
        ["plan"], status={"plan": "✓ done → ↺ reused"}),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_compare(tmp_path: Path, case: Case) -> None:
    # Given newer first: the older run is A all the same.
    c = compare_logs(write(tmp_path, case.b, "b"), write(tmp_path, case.a, "a"))
    assert (c.a.run_id, c.b.run_id) == ("a", "b")
    assert [s.step_id for s in c.steps] == case.order
    by_id = {s.step_id: s for s in c.steps}
    assert {k: s.presence for k, s in by_id.items() if s.presence != "both"} == case.presence
    assert {k: s.status_change for k, s in by_id.items()
            if s.a is None or s.b is None or s.a.status != s.b.status} == case.status
    assert {k: s.response_word for k, s in by_id.items()
            if s.response_word != "same"} == case.responses
    for step_id, seconds in case.elapsed.items():
        assert by_id[step_id].elapsed_delta == pytest.approx(seconds)
    for step_id, usd in case.cost.items():
        assert by_id[step_id].cost_delta == pytest.approx(usd)
    assert [s.step_id for s in c.steps if s.changed] == sorted(
        {*case.presence, *case.status, *case.responses}, key=case.order.index)


def test_differing_responses_give_a_unified_diff_named_by_run(tmp_path: Path) -> None:
    old = write(tmp_path, ours(0, done("review", "line one\nline two\nline three")), "a1b2c3d4e5")
    new = write(tmp_path, ours(100, done("review", "line one\nline 2\nline three")), "f6e5d4c3b2")
    c = compare_logs(old, new)
    assert c.diff(c.steps[0]) == [
        "--- a1b2c3d4 review", "+++ f6e5d4c3 review", "@@ -1,3 +1,3 @@",
        " line one", "-line two", "+line 2", " line three"]


def test_same_responses_have_no_diff(tmp_path: Path) -> None:
    c = compare_logs(write(tmp_path, ours(0, done("a", "x")), "a"),
                     write(tmp_path, ours(9, done("a", "x")), "b"))
    assert c.diff(c.steps[0]) == []


def test_a_long_diff_is_cut_and_says_so(tmp_path: Path) -> None:
    old = "\n".join(f"old {n}" for n in range(100))
    new = "\n".join(f"new {n}" for n in range(100))
    c = compare_logs(write(tmp_path, ours(0, done("a", old)), "a"),
                     write(tmp_path, ours(9, done("a", new)), "b"))
    lines = c.diff(c.steps[0], limit=20)
    assert len(lines) == 21 and lines[-1] == "… 183 more diff lines not shown"


def test_huge_responses_are_diffed_up_to_a_bound(tmp_path: Path) -> None:
    big = "x" * (MAX_DIFF_INPUT_CHARS + 10)
    c = compare_logs(write(tmp_path, ours(0, done("a", big + "tail A")), "a"),
                     write(tmp_path, ours(9, done("a", big + "tail B")), "b"))
    step = c.steps[0]
    assert step.response_differs  # the whole texts differ…
    assert c.diff(step)[-1].startswith("… responses compared up to")  # …the diff is bounded


def test_run_totals_and_their_deltas(tmp_path: Path) -> None:
    c = compare_logs(
        write(tmp_path, ours(0, done("a", "x", cost=0.002), end=4.0), "a"),
        write(tmp_path, ours(60, [*done("a", "y", cost=0.003), *done("b", "z", cost=0.001)],
                             "failed", end=5.5), "b"))
    assert (c.a.status, c.b.status) == ("completed", "failed")
    assert (c.a.duration, c.b.duration) == (pytest.approx(4.0), pytest.approx(5.5))
    assert c.duration_delta == pytest.approx(1.5)
    assert c.cost_delta == pytest.approx(0.002)
    assert seconds_delta_text(c.duration_delta) == "+1.5s"
    assert cost_delta_text(-0.001) == "-$0.0010"


def rust_log(tmp_path: Path, name: str, review: str, mtime: int) -> Path:
    """A sequential Rust log (no timestamps, no run_finished)."""
    path = write(tmp_path, [
        *rust_opening(),
        started("review", "Review this change"),
        entry("review", prompt="Review this change", response=review, cost_usd=0.0042,
              input_tokens=120, output_tokens=30),
    ], name)
    os.utime(path, (mtime, mtime))
    return path


def test_rust_logs_compare_without_times(tmp_path: Path) -> None:
    c = compare_logs(rust_log(tmp_path, "new", "Needs work.", 1_700_000_100),
                     rust_log(tmp_path, "old", "Looks fine.", 1_700_000_000))
    assert (c.a.run_id, c.b.run_id) == ("old", "new")  # ordered by the files' times
    diff, review = c.steps
    assert diff.response_word == "same" and diff.a.response == " a.py | 2 +-\n"
    assert review.response_word == "differs" and review.status_change == "✓ done → ✓ done"
    assert review.elapsed_delta is None and review.cost_delta == pytest.approx(0.0)
    assert (review.b.input_tokens, review.b.output_tokens) == (120, 30)
    assert c.diff(review)[-2:] == ["-Looks fine.", "+Needs work."]


def test_text_and_json_forms(tmp_path: Path) -> None:
    c = compare_logs(write(tmp_path, ours(0, done("review", "fine")), "aaaaaaaa-1"),
                     write(tmp_path, ours(60, failed("review"), "aborted"), "bbbbbbbb-2"))
    text = format_text(c)
    first, second, deltas, blank, header, row, *rest = text.splitlines()
    assert first.startswith("A aaaaaaaa  ") and first.endswith("✓ completed  10.0s  $0.0010")
    assert second.startswith("B bbbbbbbb  ") and second.endswith("✗ aborted  10.0s  $0.0000")
    assert deltas == "Δ B−A  time +0.0s  cost -$0.0010  · 1 of 1 steps changed"
    assert blank == ""
    assert header.split() == ["step", "A", "→", "B", "time", "A", "time", "B", "Δ", "time",
                              "cost", "A", "cost", "B", "Δ", "cost", "tokens", "A",
                              "tokens", "B", "response"]
    assert row.split() == ["review", "✓", "done", "→", "✗", "failed", "1.0s", "0.5s",
                           "-0.5s", "$0.0010", "—", "—", "10/5", "0/0", "differs"]
    assert rest[1:] == ["--- aaaaaaaa review", "+++ bbbbbbbb review", "@@ -1 +0,0 @@",
                        "-fine"]
    data = json.loads(json.dumps(format_json(c)))
    assert data["a"]["run_id"] == "aaaaaaaa-1" and data["b"]["status"] == "aborted"
    [step] = data["steps"]
    assert step["presence"] == "both" and step["response"] == "differs"
    assert step["a"]["status"] == "done" and step["b"]["status"] == "failed"
    assert step["b"]["error"] == "boom" and step["elapsed_delta_s"] == pytest.approx(-0.5)
    assert step["diff"][-1] == "-fine"
