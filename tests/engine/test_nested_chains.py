"""Chains nested inside chain steps run, with the ids Rust gives them (brief §2 Chains)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ail_tui.pipeline.validation import check_file

CASES = Path(__file__).resolve().parents[3] / "shared" / "ail-cases"
FIXTURE = CASES / "fixture_nested_chains" / "nested_chains.ail.yaml"


@pytest.mark.skipif(not FIXTURE.is_file(), reason="../shared/ail-cases is not beside the repo")
def test_the_nested_chains_fixture_runs_six_steps_in_rusts_order(run_pipeline) -> None:
    run = run_pipeline(FIXTURE.read_text(encoding="utf-8"), prompt="go")
    assert run.result.status == "completed", run.result.error
    done = [r["step_id"] for r in run.records if "type" not in r]
    assert done == ["invocation", "outer::before::0", "outer::before::0::then::0", "outer",
                    "outer::then::0::before::0", "outer::then::0"]
    prompts = {r["step_id"]: r["prompt"] for r in run.records if "type" not in r}
    assert prompts["outer::before::0::then::0"] == "Nested then inside before."
    assert prompts["outer::then::0::before::0"] == "Nested before inside then."


def test_a_nested_chain_step_can_be_read_and_is_checked(tmp_path: Path, run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: outer
            prompt: outer
            then:
              - prompt: inner
                then:
                  - prompt: deepest
          - id: read
            prompt: "{{ step.outer::then::0::then::0.response }}"
        """, script={"steps": {"outer::then::0::then::0": {"response": "deep"}}})
    assert run.entries()["read"]["prompt"] == "deep"
    path = tmp_path / "bad.ail.yaml"
    path.write_text('version: "1"\npipeline:\n  - id: outer\n    prompt: outer\n'
                    "    then:\n      - prompt: inner\n        before:\n"
                    "          - prompt: a\n            action: explode\n", encoding="utf-8")
    result = check_file(path)
    assert [(e.position.line if e.position else None) for e in result.errors
            if "unknown action 'explode'" in e.detail] == [9]
