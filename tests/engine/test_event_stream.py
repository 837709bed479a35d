"""The run's event stream: late subscribers get everything, in order, with none repeated."""

from __future__ import annotations

import threading

import pytest

from ail_tui.engine import events as ev
from ail_tui.engine.event_stream import EventStream


def _delta(step: str, text: str) -> ev.RunnerEvent:
    return ev.RunnerEvent(step_id=step, event={"type": "stream_delta", "text": text})


def _texts(events: list[ev.Event]) -> list[tuple[str, str]]:
    out = []
    for event in events:
        if isinstance(event, ev.RunnerEvent):
            out.append((event.step_id, str(event.event["text"])))
        else:
            out.append((getattr(event, "step_id", ""), event.type))
    return out


@pytest.mark.timeout(10)
def test_a_late_subscriber_gets_the_past_folded_then_every_new_event() -> None:
    stream = EventStream()
    stream.emit(ev.StepStarted(step_id="a", step_index=0, total_steps=1))
    for piece in ("Hel", "lo", " there"):
        stream.emit(_delta("a", piece))
    stream.emit(_delta("b", "other"))
    stream.emit(ev.StepCompleted(step_id="a"))
    stream.emit(_delta("b", " step"))

    late: list[ev.Event] = []
    stream.subscribe(late.append)
    stream.emit(_delta("b", " goes on"))
    stream.emit(ev.StepCompleted(step_id="b"))

    assert _texts(late) == [("a", "step_started"), ("a", "Hello there"), ("b", "other step"),
                            ("a", "step_completed"), ("b", " goes on"),
                            ("b", "step_completed")]
    folded = late[1]
    assert isinstance(folded, ev.RunnerEvent) and folded.event["chunks"] == 3


@pytest.mark.timeout(10)
def test_live_subscribers_get_each_delta_and_a_broken_one_is_dropped() -> None:
    stream = EventStream()
    live: list[ev.Event] = []
    stream.subscribe(live.append)

    def broken(event: ev.Event) -> None:
        raise RuntimeError("viewer gone")

    stream.subscribe(broken)
    for piece in ("a", "b", "c"):
        stream.emit(_delta("s", piece))
    assert _texts(live) == [("s", "a"), ("s", "b"), ("s", "c")]


@pytest.mark.timeout(30)
def test_subscribing_while_events_pour_in_loses_and_repeats_nothing() -> None:
    stream = EventStream()
    count = 5_000
    started = threading.Event()

    def produce() -> None:
        for number in range(count):
            stream.emit(ev.Warning_(message=str(number)))
            if number == 100:
                started.set()

    producer = threading.Thread(target=produce)
    producer.start()
    assert started.wait(10)
    seen: list[ev.Event] = []
    stream.subscribe(seen.append)
    producer.join(20)
    assert [int(e.message) for e in seen if isinstance(e, ev.Warning_)] == list(range(count))
