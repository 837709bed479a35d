"""The status bar's sums kept from the rows that changed (RunTotals) are the sums of every
row, whatever events came, in whatever batches."""

from __future__ import annotations

from dataclasses import replace
from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from ail_tui.engine import events as ev
from ail_tui.tui.run_view import RunView
from ail_tui.tui.widgets.status_bar import RunTotals, status_text

STEPS = ("a", "b", "c", "a::then::0")


def step_events(step_id: str) -> st.SearchStrategy[ev.Event]:
    tokens = st.integers(0, 50)
    return st.one_of(
        st.just(ev.StepQueued(step_id=step_id, concurrent_group="g")),
        st.just(ev.StepStarted(step_id=step_id, step_index=0, total_steps=4)),
        st.builds(ev.StepCompleted, step_id=st.just(step_id),
                  cost_usd=st.one_of(st.none(), st.sampled_from((0.1, 0.2, 0.0007, 1e-9))),
                  input_tokens=tokens, output_tokens=tokens),
        st.just(ev.StepFailed(step_id=step_id, error="boom", error_type="x")),
        st.just(ev.StepCancelled(step_id=step_id, cancelled_by="user", reason="r")),
        st.just(ev.StepSkipped(step_id=step_id)),
        st.just(ev.StepOutput(step_id=step_id, stream="stdout", text="line")),
        st.builds(lambda i, o: ev.RunnerEvent(step_id=step_id, event={
            "type": "usage", "input_tokens": i, "output_tokens": o}), tokens, tokens),
        st.just(ev.HitlGateReached(step_id=step_id)),
        st.just(ev.PermissionRequested(step_id=step_id, request_id=f"q-{step_id}",
                                       tool_name="Write")),
    )


EVENTS = st.one_of(*(step_events(step_id) for step_id in STEPS),
                   st.just(ev.PipelineCompleted(outcome="cancelled")),
                   st.just(ev.RunStarted(pipeline_source=None, run_id="r", total_steps=4)))


def dirty(view: RunView, event: ev.Event) -> str | None:
    """The step an event changed a table cell of, as the dashboard's drain tells."""
    changed = view.apply(event)
    if isinstance(event, ev.StepOutput) or (
            isinstance(event, ev.RunnerEvent) and event.event.get("type") != "usage"):
        return None
    return changed


def assert_sums(totals: RunTotals, view: RunView) -> None:
    assert +totals.counts == view.counts()
    assert (totals.tokens_in, totals.tokens_out) == view.total_tokens()
    assert f"{totals.cost:.6f}" == f"{view.total_cost:.6f}"
    assert bool(totals.cost) == bool(view.total_cost)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(EVENTS, max_size=6), max_size=8),
       st.lists(st.sampled_from((*STEPS, "q-a", "q-b")), max_size=3))
def test_sums_kept_from_changed_rows_are_the_sums_of_every_row(
        batches: list[list[ev.Event]], answered: list[str]) -> None:
    view = RunView()
    view.rows.update((step_id, view.row(step_id)) for step_id in ("a", "b", "c"))
    totals = RunTotals()
    clock = count(1)
    for number, batch in enumerate(batches):
        changed = {step_id for event in batch  # each at its own time, as in a run
                   if (step_id := dirty(view, replace(event, at=float(next(clock)))))}
        if number < len(answered):  # answered in the dashboard: no event says so
            view.answered(answered[number])
        totals.update(view, changed)
        assert_sums(totals, view)
    totals.update(view, ())  # again, nothing new: the same
    assert_sums(totals, view)


def test_the_bar_shows_the_totals_it_is_given_or_sums_the_rows() -> None:
    view = RunView()
    view.apply(ev.StepCompleted(step_id="a", cost_usd=0.25, input_tokens=1200,
                                output_tokens=30))
    view.apply(ev.StepStarted(step_id="b", step_index=1, total_steps=2))
    kept = RunTotals()
    kept.update(view, {"a", "b"})
    for totals in (kept, None):
        bar = status_text("p.ail.yaml", None, 0.0, view, 1.0, totals=totals).plain
        assert "▶1 running  ✓1 done  1,200/30 tok  $0.2500" in bar


def test_another_view_is_counted_afresh() -> None:
    first, second = RunView(), RunView()
    first.apply(ev.StepCompleted(step_id="a", cost_usd=0.5))
    second.apply(ev.StepFailed(step_id="z", error="e", error_type="t"))
    totals = RunTotals()
    totals.update(first, {"a"})
    totals.update(second, ())
    assert (+totals.counts, totals.cost) == ({"failed": 1}, 0.0)
