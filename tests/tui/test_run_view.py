"""The run view folds engine events into what the panes show."""

from __future__ import annotations

from ail_tui.engine import events as ev
from ail_tui.tui.run_view import RunView


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
