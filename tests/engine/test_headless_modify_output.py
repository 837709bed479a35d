"""A headless modify_output gate without on_headless: announced, recorded, readable."""

from __future__ import annotations

from pathlib import Path

import pytest

from ail_tui.engine import events as ev

CASES = Path(__file__).resolve().parents[3] / "shared" / "ail-cases"
FIXTURE = CASES / "fixture_modify_output" / "modify_output.ail.yaml"


@pytest.mark.skipif(not FIXTURE.is_file(), reason="../shared/ail-cases is not beside the repo")
def test_the_modify_output_fixture_completes_headless(run_pipeline) -> None:
    run = run_pipeline(FIXTURE.read_text(encoding="utf-8"),
                       script={"steps": {"generate": {"response": "the document"}}})
    assert run.result.status == "completed", run.result.error
    reached = run.of(ev.HitlModifyReached)
    assert [(r.step_id, r.last_response) for r in reached] == [("review_gate", "the document")]
    entries = run.entries()
    assert entries["review_gate"]["modified"] == "the document"
    assert entries["review_gate"]["prompt"] == (
        "Review and edit the generated document before continuing.")
    assert entries["review_gate"]["response"] is None
    assert entries["finalize"]["prompt"] == "Finalize: the document"
    assert any(w.step_id == "review_gate" for w in run.of(ev.Warning_))


def test_on_headless_skip_still_skips(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: gate
            action: modify_output
            on_headless: skip
        """)
    assert run.result.status == "completed"
    assert "gate" not in run.entries()
    assert not run.of(ev.HitlModifyReached)
