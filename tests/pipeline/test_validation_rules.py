"""Every load-time rule, valid and invalid, with the reported position (brief §3)."""

from __future__ import annotations

from pathlib import Path

import invalid_cases
import invalid_cases_more
import pytest
from pipeline_checks import assert_at, check

from ail_tui.pipeline.diagnostics import ErrorType

INVALID = invalid_cases.CASES + invalid_cases_more.CASES
"""(id, pipeline text, error_type, detail substring, line, column)"""


@pytest.mark.parametrize(
    ("body", "error_type", "detail", "line", "column"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_pipeline_is_reported_at_its_place(
    tmp_path: Path, body: str, error_type: str, detail: str, line: int, column: int
) -> None:
    result = check(tmp_path, body)
    assert not result.valid
    matching = [e for e in result.errors if detail in e.detail]
    assert matching, [e.detail for e in result.errors]
    assert_at(matching[0], error_type, line, column)


VALID = [
    ("minimal", """
        version: "0.1"
        pipeline:
          - id: review
            prompt: "Review {{ step.invocation.prompt }}"
        """),
    ("parallel-join-and-reads", """
        version: "1"
        defaults: {max_concurrency: 2}
        pipeline:
          - id: lint
            async: true
            context: {shell: "ruff check ."}
          - id: test
            async: true
            depends_on: [lint]
            prompt: "after {{ step.lint.result }}"
          - id: checks
            action: join
            depends_on: [lint, test]
            on_error: wait_for_all
          - id: ship
            prompt: "{{ step.checks.response }} {{ step.test.response }}"
        """),
    ("structured-join-path", """
        version: "1"
        pipeline:
          - id: a
            async: true
            prompt: a
            output_schema: {type: object, properties: {ok: {type: boolean}}}
          - id: b
            async: true
            prompt: b
            output_schema: {type: object, properties: {ok: {type: boolean}}}
          - id: done
            action: join
            depends_on: [a, b]
            output_schema: {type: object}
          - id: after
            prompt: "{{ step.done.a.ok }}"
            condition: "{{ step.done.b.ok }} == true"
        """),
    ("loops-and-chains", """
        version: "1"
        pipeline:
          - id: plan
            prompt: plan
          - id: each
            for_each:
              over: "{{ step.plan.items }}"
              as: task
              max_items: 5
              on_max_items: continue
              steps:
                - id: work
                  prompt: "{{ for_each.task }} {{ for_each.index }}/{{ for_each.total }}"
          - id: fix
            do_while:
              max_iterations: 3
              exit_when: "{{ step.check.exit_code }} == 0"
              steps:
                - id: check
                  context: {shell: "true"}
                - id: note
                  prompt: "iteration {{ do_while.iteration }} {{ step.check.result }}"
            before:
              - "Gather context."
            then:
              - prompt: "Summarise {{ last_response }}"
        """),
    ("spec-extensions", """
        version: "1"
        pipeline:
          - id: a
            prompt: "Hi {{ env.USER | default('you') }}"
            disabled: true
            on_error: pause_for_human
            on_result:
              contains: "ok"
              if_true: {action: continue}
              if_false: {action: pause_for_human, message: "check"}
          - id: b
            prompt: hi
            on_result:
              - starts_with: "yes"
                action: continue
              - always:
                action: break
        """),
    ("gates-and-named", """
        version: "1"
        pipeline:
          - id: gate
            action: pause_for_human
            message: "Continue?"
          - id: edit
            action: modify_output
            on_headless: use_default
            default_value: "n/a"
          - id: call
            pipeline: review
        pipelines:
          review:
            - id: r
              prompt: "{{ last_response }}"
        """),
]


@pytest.mark.parametrize("body", [case[1] for case in VALID], ids=[case[0] for case in VALID])
def test_valid_pipeline_has_no_errors(tmp_path: Path, body: str) -> None:
    result = check(tmp_path, body)
    assert result.errors == []
    assert result.valid


def test_independent_errors_are_all_reported(tmp_path: Path) -> None:
    result = check(tmp_path, """
        pipeline:
          - id: a
            action: explode
          - id: a
            prompt: "{{ nope }}"
          - id: lonely
            async: true
            prompt: x
        """)
    details = " | ".join(e.detail for e in result.errors)
    for expected in ("'version' field is required", "unknown action 'explode'",
                     "appears more than once", "not a recognised template variable",
                     "not named in any step's depends_on"):
        assert expected in details


def test_unknown_keys_are_warnings_with_a_suggestion(tmp_path: Path) -> None:
    result = check(tmp_path, """
        version: "1"
        defaults:
          max_concurency: 2
        pipeline:
          - id: a
            promt: hi
            prompt: hi
            on_result:
              - contains: x
                acton: continue
                action: continue
        """)
    assert result.valid
    warnings = {(w.detail, w.position.line, w.position.column) for w in result.warnings}
    assert ("Unknown key 'max_concurency' in defaults is ignored; did you mean "
            "'max_concurrency'?", 3, 3) in warnings
    assert ("Unknown key 'promt' in step 'a' is ignored; did you mean 'prompt'?", 6, 5) in warnings
    assert any("'acton'" in d and "did you mean 'action'" in d for d, _, _ in warnings)
    assert all(w.error_type == ErrorType.UNKNOWN_KEY for w in result.warnings)


def test_reference_to_a_later_step_is_a_warning(tmp_path: Path) -> None:
    result = check(tmp_path, """
        version: "1"
        pipeline:
          - id: a
            prompt: "{{ step.b.response }} {{ step.ghost.response }}"
          - id: b
            prompt: hi
        """)
    assert result.valid
    details = [w.detail for w in result.warnings]
    assert any("'b', which has not run yet" in d for d in details)
    assert any("'ghost', which is not declared" in d for d in details)


def test_prompt_file_templates_are_checked_in_their_file(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "review.md").write_text("Review:\n\n  {{ bogus.var }}\n")
    result = check(tmp_path, """
        version: "1"
        pipeline:
          - id: a
            prompt: ./prompts/review.md
          - id: b
            prompt: ./prompts/missing.md
        """)
    [error] = result.errors
    assert error.position is not None
    assert error.position.file.endswith("review.md")
    assert (error.position.line, error.position.column) == (3, 3)
    [warning] = result.warnings
    assert warning.error_type == ErrorType.FILE_NOT_FOUND
    assert (tmp_path / "prompts" / "review.md") in result.files


def test_loop_pipeline_file_is_loaded_and_checked(tmp_path: Path) -> None:
    (tmp_path / "body.ail.yaml").write_text(
        'version: "1"\npipeline:\n  - id: t\n    context: {shell: "true"}\n'
    )
    result = check(tmp_path, """
        version: "1"
        pipeline:
          - id: loop
            do_while:
              max_iterations: 2
              exit_when: "{{ step.t.exit_code }} == 0"
              pipeline: ./body.ail.yaml
          - id: missing
            do_while:
              max_iterations: 2
              exit_when: "{{ step.t.exit_code }} == 0"
              pipeline: ./nope.ail.yaml
        """)
    [error] = result.errors
    assert error.error_type == ErrorType.FILE_NOT_FOUND
    assert error.step_id == "missing"
    assert (tmp_path / "body.ail.yaml") in result.files
