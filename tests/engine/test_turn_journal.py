"""The turn log is a subscriber: a run's events alone make its records.

The events a run hands its :class:`TurnJournal` are captured and given to a second
journal writing another file: the two logs must be the same, record for record. Front
ends get the same events without what only the log keeps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import make_executor, read_records

from ail_tui.engine import events as ev
from ail_tui.engine.turn_journal import TurnJournal
from ail_tui.turnlog.paths import project_hash
from ail_tui.turnlog.run_log import RunLog

PIPELINE = """
    version: "1"
    pipeline:
      - id: first
        prompt: one
      - id: shrug
        prompt: broken
        on_error: continue
      - id: fan_a
        async: true
        prompt: a
      - id: fan_b
        async: true
        context: {shell: "echo b"}
      - id: joined
        action: join
        depends_on: [fan_a, fan_b]
      - id: loop
        do_while:
          max_iterations: 2
          exit_when: "{{ step.inner.response }} contains stub"
          steps:
            - id: inner
              prompt: again
      - id: doomed
        prompt: doomed
        on_error: retry
        max_retries: 1
    """

SCRIPT = {"steps": {"shrug": {"error": "no good"}, "doomed": {"error": "never works"}}}


@pytest.fixture
def captured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[ev.Event], list]:
    """Run PIPELINE; what its journal was given, and what its front end was."""
    given: list[ev.Event] = []
    record = TurnJournal.record

    def capture(self: TurnJournal, event: ev.Event, *, defer: bool = False) -> None:
        given.append(event)
        record(self, event, defer=defer)

    monkeypatch.setattr(TurnJournal, "record", capture)
    announced: list[ev.Event] = []
    executor = make_executor(tmp_path, PIPELINE, script=SCRIPT, sink=announced.append)
    result = executor.run()
    assert result.status == "failed" and result.step_id == "doomed"
    return given, [announced, read_records(result.log_path), str(tmp_path)]


def test_the_events_alone_make_the_same_log(captured, tmp_path: Path) -> None:
    given, (_, records, cwd) = captured
    again = tmp_path / "again.jsonl"
    journal = TurnJournal(RunLog(again, sync=False), project_hash(cwd))
    for event in list(given):  # (this journal is captured too)
        journal.record(event)
    assert read_records(again) == records
    kinds = [r.get("type", "entry") for r in records]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    errors = [(r["step_id"], r["on_error_action"]) for r in records
              if r.get("type") == "step_error"]
    assert errors == [("shrug", "continue"), ("doomed", "retry"), ("doomed", "abort_pipeline")]


def test_front_ends_get_no_record_only_fields(captured) -> None:
    _, (announced, records, _) = captured
    assert not [e for e in announced if e.journal_only]
    completed = [e for e in announced if isinstance(e, ev.StepCompleted)]
    assert completed and all(e.entry is None for e in completed)
    started = [e for e in announced if isinstance(e, ev.StepStarted)]
    assert started and all(e.recorded_prompt is None for e in started)
    for event in announced:
        assert "entry" not in event.to_json() and "recorded_prompt" not in event.to_json()
    # Every entry the log holds was reported, by step, in the same order.
    entries = [r["step_id"] for r in records if "type" not in r]
    assert [e.step_id for e in completed if e.step_id in entries] == entries


def test_a_record_is_stamped_when_its_event_happened(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    journal = TurnJournal(RunLog(path, sync=False), "hash")
    journal.record(ev.RunStarted(at=1_700_000_000.25, pipeline_source="p.ail.yaml",
                                 run_id="r", total_steps=0))
    journal.record(ev.StepSkipped(step_id="x"))  # no record of its own
    journal.record(ev.PipelineCompleted(at=1_700_000_001.5, outcome="completed"))
    records = read_records(path)
    assert [r["type"] for r in records] == ["run_started", "run_finished"]
    assert records[0]["at"].startswith("2023-11-14T22:13:20.25")
    assert records[1]["at"].startswith("2023-11-14T22:13:21.5")
