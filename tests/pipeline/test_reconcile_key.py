"""The ail-tui `reconcile: {shell: CMD}` step key (decisions D3): model and validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline_checks import assert_at, check

from ail_tui.pipeline.diagnostics import ErrorType

V = ErrorType.VALIDATION_FAILED
Y = ErrorType.INVALID_YAML
T = ErrorType.UNRESOLVED_VARIABLE


def test_reconcile_is_modelled_like_context(tmp_path: Path) -> None:
    result = check(tmp_path, """
        version: "1"
        pipeline:
          - id: deploy
            context: {shell: "./deploy.sh"}
            reconcile:
              shell: "./deploy.sh --status"
        """)
    step = result.pipeline.steps[0] if result.pipeline else None
    assert step is not None and step.reconcile is not None
    assert step.reconcile.shell == "./deploy.sh --status"
    where = step.reconcile.pos("shell")
    assert where is not None and (where.line, where.column) == (6, 14)


VALID = [
    ("prompt", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            reconcile: {shell: "cat out.txt"}
        """),
    ("skill", """
        version: "1"
        pipeline:
          - id: a
            skill: ail/code_review
            reconcile: {shell: "cat review.md"}
        """),
    ("context-block-scalar", """
        version: "1"
        pipeline:
          - id: a
            context: {shell: "make deploy"}
            reconcile:
              shell: |
                curl -sf https://example.test/status
        """),
    ("named-sub-pipeline", """
        version: "1"
        pipeline:
          - id: a
            pipeline: child
            reconcile: {shell: "echo recovered"}
        pipelines:
          child:
            - id: c
              prompt: hi
              reconcile: {shell: "echo child"}
        """),
    ("file-sub-pipeline", """
        version: "1"
        pipeline:
          - id: a
            pipeline: ./child.ail.yaml
            reconcile: {shell: "echo recovered"}
        """),
    ("loops-and-their-bodies", """
        version: "1"
        pipeline:
          - id: list
            prompt: "[1, 2]"
          - id: each
            for_each:
              over: "{{ step.list.response }}"
              steps:
                - id: one
                  prompt: "{{ for_each.item }}"
                  reconcile: {shell: "cat out-{{ for_each.index }}.txt"}
            reconcile: {shell: "cat all.txt"}
          - id: again
            do_while:
              max_iterations: 2
              exit_when: "{{ step.again::try.response }} == ok"
              steps:
                - id: try
                  prompt: go
            reconcile: {shell: "echo ok"}
        """),
    ("chain-entry", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            then:
              - prompt: more
                reconcile: {shell: "echo more"}
        """),
    ("templates-of-earlier-steps", """
        version: "1"
        pipeline:
          - id: plan
            prompt: plan it
          - id: apply
            context: {shell: "make apply"}
            reconcile: {shell: "grep -q '{{ step.plan.response }}' applied.log && echo done"}
        """),
    ("number-is-text", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            reconcile: {shell: 5}
        """),
]


@pytest.mark.parametrize("body", [case[1] for case in VALID], ids=[case[0] for case in VALID])
def test_valid_reconcile_has_no_findings(tmp_path: Path, body: str) -> None:
    result = check(tmp_path, body)
    assert result.errors == []
    assert result.warnings == []


HEAD = """
        version: "1"
        pipeline:
          - id: a
"""

# (id, the fields of step `a` (line 4 on), error_type, detail substring, line, column)
INVALID = [
    ("string", """
            prompt: hi
            reconcile: "cat out.txt"
        """, Y, "Step 'a': field 'reconcile' must be a mapping, not 'cat out.txt'", 5, 16),
    ("list", """
            prompt: hi
            reconcile: [cat out.txt]
        """, Y, "field 'reconcile' must be a mapping, not a list", 5, 16),
    ("null", """
            prompt: hi
            reconcile:
        """, V, "Step 'a' reconcile must be a mapping with a 'shell' command, not nothing",
     5, 5),
    ("no-shell", """
            prompt: hi
            reconcile: {}
        """, V, "Step 'a' reconcile must declare 'shell'", 5, 16),
    ("blank-shell", """
            prompt: hi
            reconcile:
              shell: "  "
        """, V, "Step 'a' reconcile shell must be a non-empty command", 6, 14),
    ("null-shell", """
            prompt: hi
            reconcile: {shell: null}
        """, V, "Step 'a' reconcile shell must be a non-empty command", 5, 24),
    ("list-shell", """
            prompt: hi
            reconcile: {shell: [a, b]}
        """, Y, "Step 'a': field 'reconcile.shell' must be a string, not a list", 5, 24),
    ("mapping-shell", """
            prompt: hi
            reconcile:
              shell: {cmd: x}
        """, Y, "field 'reconcile.shell' must be a string, not a mapping", 6, 14),
    ("human-gate", """
            action: pause_for_human
            reconcile: {shell: "echo ok"}
        """, V, "Step 'a' (action: pause_for_human) declares reconcile, but only a step whose "
        "body runs (prompt, skill, context, pipeline, do_while, or for_each)", 5, 5),
    ("unknown-template-variable", """
            prompt: hi
            reconcile: {shell: "cat {{ nope }}"}
        """, T, "Step 'a' reconcile shell: '{{ nope }}' is not a recognised template variable",
     5, 29),
    ("unclosed-template", """
            prompt: hi
            reconcile: {shell: "cat {{ step.a.response"}
        """, T, "Step 'a' reconcile shell: Found '{{' without matching '}}'", 5, 29),
    ("loop-variable-outside-loop", """
            prompt: hi
            reconcile: {shell: "cat {{ for_each.item }}"}
        """, T, "is only available inside a for_each loop", 5, 29),
]


@pytest.mark.parametrize(
    ("fields", "error_type", "detail", "line", "column"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_reconcile_is_reported_at_its_place(
    tmp_path: Path, fields: str, error_type: str, detail: str, line: int, column: int
) -> None:
    result = check(tmp_path, HEAD + fields.lstrip("\n"))
    assert not result.valid
    [finding] = result.errors  # one problem, one error (a wrong shape is not reported twice)
    assert detail in finding.detail and finding.step_id == "a"
    assert_at(finding, error_type, line, column)


def test_join_with_reconcile_is_an_error(tmp_path: Path) -> None:
    result = check(tmp_path, """
        version: "1"
        pipeline:
          - id: lint
            async: true
            context: {shell: "true"}
          - id: done
            action: join
            depends_on: [lint]
            reconcile: {shell: "echo joined"}
        """)
    [error] = result.errors
    assert "Step 'done' (action: join) declares reconcile" in error.detail
    assert error.position is not None and (error.position.line, error.position.column) == (9, 5)


def test_errors_inside_chains_loop_bodies_and_named_pipelines(tmp_path: Path) -> None:
    result = check(tmp_path, """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            before:
              - prompt: first
                reconcile: {}
          - id: loop
            do_while:
              max_iterations: 1
              exit_when: "{{ step.loop::b.response }} == x"
              steps:
                - id: b
                  prompt: hi
                  reconcile: {shell: ""}
        pipelines:
          named:
            - id: gate
              action: modify_output
              reconcile: {shell: "echo x"}
        """)
    found = {(e.detail.split(" reconcile")[0], e.position.line, e.position.column)
             for e in result.errors if e.position is not None}
    assert found == {("The step at line 6", 7, 20), ("Step 'b'", 15, 30),
                     ("Step 'gate' (action: modify_output) declares", 20, 7)}


def test_reconcile_is_a_known_key_and_its_unknown_keys_warn(tmp_path: Path) -> None:
    result = check(tmp_path, """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            reconcile:
              shell: "cat out.txt"
              shel: typo
        """)
    assert result.valid
    [warning] = result.warnings
    assert warning.error_type == ErrorType.UNKNOWN_KEY
    assert warning.detail == ("Unknown key 'shel' in reconcile of step 'a' is ignored; did you "
                              "mean 'shell'?")
    assert warning.position is not None
    assert (warning.position.line, warning.position.column) == (7, 7)
