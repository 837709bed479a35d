"""A join merges structurally when every dependency declares output_schema (P6)."""

from __future__ import annotations

import json

SCHEMA = "{type: object, properties: {clean: {type: boolean}}, required: [clean]}"


def branches(test_schema: bool = True) -> str:
    """Branches lint and test, both declaring output_schema (test only when
    ``test_schema``), and their join (no schema of its own)."""
    return f"""
        version: "1"
        pipeline:
          - id: lint
            async: true
            prompt: lint
            output_schema: {SCHEMA}
          - id: test
            async: true
            prompt: test
            {f"output_schema: {SCHEMA}" if test_schema else ""}
          - id: checks
            action: join
            depends_on: [lint, test]
"""


BRANCHES = branches()


def test_structured_join_without_a_join_schema(run_pipeline) -> None:
    run = run_pipeline(BRANCHES + """\
          - id: ship
            prompt: "lint clean: {{ step.checks.lint.clean }}"
        """, script={"steps": {"lint": {"response": '{"clean": true}'},
                               "test": {"response": '{"clean": false, "failed": 2}'}}})
    assert run.result.status == "completed", run.result.error
    entries = run.entries()
    assert entries["checks"]["response"] == (
        '{"lint":{"clean":true},"test":{"clean":false,"failed":2}}')
    assert entries["ship"]["prompt"] == "lint clean: true"


def test_wait_for_all_gives_a_failed_dependency_the_error_envelope(run_pipeline) -> None:
    run = run_pipeline(BRANCHES + """\
            on_error: wait_for_all
          - id: report
            prompt: "test: {{ step.checks.test.error_type }}"
        """, script={"steps": {"lint": {"response": '{"clean": true}'},
                               "test": {"error": "Runner exited with code 1"}}})
    assert run.result.status == "completed", run.result.error
    merged = json.loads(run.entries()["checks"]["response"])
    assert merged == {"lint": {"clean": True},
                      "test": {"error": "Runner exited with code 1",
                               "error_type": "ail:runner/invocation-failed"}}
    assert run.entries()["report"]["prompt"] == "test: ail:runner/invocation-failed"


def test_a_dependency_without_a_schema_keeps_the_string_join(run_pipeline) -> None:
    run = run_pipeline(branches(test_schema=False),
                       script={"steps": {"lint": {"response": '{"clean": true}'}}})
    assert run.entries()["checks"]["response"] == (
        '[lint]:\n{"clean": true}\n\n[test]:\nstub response\n')
