"""Every load-time rule, valid and invalid, with the reported position (brief §3)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.validation import check_file

V = ErrorType.VALIDATION_FAILED
T = ErrorType.UNRESOLVED_VARIABLE
C = ErrorType.CONDITION_INVALID
S = ErrorType.SCHEMA_COMPATIBILITY_FAILED


def check(tmp_path: Path, body: str, name: str = "p.ail.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return check_file(path)


# (id, pipeline text, error_type, detail substring, line, column)
INVALID = [
    ("no-version", """
        pipeline:
          - id: a
            prompt: hi
        """, V, "The 'version' field is required", 1, 1),
    ("blank-version", """
        version: "  "
        pipeline:
          - id: a
            prompt: hi
        """, V, "The 'version' field is required", 1, 10),
    ("no-pipeline", """
        version: "1"
        """, V, "The 'pipeline' array is required", 1, 1),
    ("empty-pipeline", """
        version: "1"
        pipeline: []
        """, V, "must contain at least one step", 2, 1),
    ("invocation-not-first", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
          - id: invocation
            prompt: "{{ step.invocation.prompt }}"
        """, V, "must be the first step", 5, 9),
    ("missing-id", """
        version: "1"
        pipeline:
          - prompt: hi
        """, V, "Every step in pipeline must declare an 'id' field", 3, 5),
    ("duplicate-id", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
          - id: a
            prompt: again
        """, V, "Step id 'a' appears more than once in pipeline", 5, 9),
    ("no-primary", """
        version: "1"
        pipeline:
          - id: a
            condition: always
        """, V, "must have exactly one primary field", 3, 5),
    ("two-primaries", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            context: {shell: ls}
        """, V, "found 2", 5, 5),
    ("blank-skill", """
        version: "1"
        pipeline:
          - id: a
            skill: "  "
        """, V, "empty", 4, 12),
    ("unknown-action", """
        version: "1"
        pipeline:
          - id: a
            action: explode
        """, V, "unknown action 'explode'", 4, 13),
    ("bad-on-headless", """
        version: "1"
        pipeline:
          - id: a
            action: modify_output
            on_headless: panic
        """, V, "on_headless", 5, 18),
    ("use-default-without-value", """
        version: "1"
        pipeline:
          - id: a
            action: modify_output
            on_headless: use_default
        """, V, "default_value", 5, 18),
    ("context-two-sources", """
        version: "1"
        pipeline:
          - id: a
            context: {shell: ls, spec: q}
        """, V, "exactly one source", 4, 14),
    ("context-no-source", """
        version: "1"
        pipeline:
          - id: a
            context: {}
        """, V, "exactly one source", 4, 14),
    ("hook-without-from", """
        version: "1"
        pipeline:
          - id: a
            run_before: b
            prompt: hi
        """, V, "hook operation 'run_before: b'", 4, 5),
    ("do-while-no-max", """
        version: "1"
        pipeline:
          - id: loop
            do_while:
              exit_when: "{{ step.x.exit_code }} == 0"
              steps:
                - id: x
                  context: {shell: "true"}
        """, V, "max_iterations", 4, 5),
    ("do-while-zero-max", """
        version: "1"
        pipeline:
          - id: loop
            do_while:
              max_iterations: 0
              exit_when: "{{ step.x.exit_code }} == 0"
              steps:
                - id: x
                  context: {shell: "true"}
        """, V, "max_iterations", 5, 23),
    ("do-while-exit-always", """
        version: "1"
        pipeline:
          - id: loop
            do_while:
              max_iterations: 2
              exit_when: always
              steps:
                - id: x
                  prompt: hi
        """, V, "exit_when", 6, 18),
    ("do-while-both-bodies", """
        version: "1"
        pipeline:
          - id: loop
            do_while:
              max_iterations: 2
              exit_when: "{{ step.x.response }} == done"
              pipeline: ./body.ail.yaml
              steps:
                - id: x
                  prompt: hi
        """, V, "mutually exclusive", 4, 5),
    ("do-while-empty-steps", """
        version: "1"
        pipeline:
          - id: loop
            do_while:
              max_iterations: 2
              exit_when: "{{ step.x.response }} == done"
              steps: []
        """, V, "must not be empty", 4, 5),
    ("loop-duplicate-inner-ids", """
        version: "1"
        pipeline:
          - id: loop
            do_while:
              max_iterations: 2
              exit_when: "{{ step.x.response }} == done"
              steps:
                - id: x
                  prompt: hi
                - id: x
                  prompt: again
        """, V, "appears more than once in do_while step 'loop'", 10, 15),
    ("for-each-no-over", """
        version: "1"
        pipeline:
          - id: each
            for_each:
              steps:
                - id: x
                  prompt: hi
        """, V, "non-empty 'over'", 4, 5),
    ("for-each-bad-as", """
        version: "1"
        pipeline:
          - id: plan
            prompt: plan
          - id: each
            for_each:
              over: "{{ step.plan.items }}"
              as: "my item"
              steps:
                - id: x
                  prompt: "{{ for_each.item }}"
        """, V, "identifier", 8, 11),
    ("for-each-zero-max-items", """
        version: "1"
        pipeline:
          - id: plan
            prompt: plan
          - id: each
            for_each:
              over: "{{ step.plan.items }}"
              max_items: 0
              steps:
                - id: x
                  prompt: hi
        """, V, "max_items", 8, 18),
    ("for-each-bad-on-max-items", """
        version: "1"
        pipeline:
          - id: plan
            prompt: plan
          - id: each
            for_each:
              over: "{{ step.plan.items }}"
              on_max_items: explode
              steps:
                - id: x
                  prompt: hi
        """, V, "on_max_items", 8, 21),
    ("invalid-input-schema", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            input_schema: {type: 12}
        """, V, "input_schema is not a valid JSON Schema", 5, 19),
    ("invalid-output-schema", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            output_schema: {properties: {x: {type: nonsense}}}
        """, V, "output_schema is not a valid JSON Schema", 5, 20),
    ("on-result-two-matchers", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_result:
              - contains: x
                exit_code: 0
                action: continue
        """, V, "exactly one matcher", 6, 9),
    ("on-result-no-action", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_result:
              - contains: x
        """, V, "must declare an 'action'", 6, 9),
    ("on-result-unknown-action", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_result:
              - always: true
                action: explode
        """, V, "unknown action 'explode'", 7, 17),
    ("on-result-pipeline-no-path", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_result:
              - always: true
                action: "pipeline:"
        """, V, "requires a path", 7, 17),
    ("on-result-exit-code-word", """
        version: "1"
        pipeline:
          - id: a
            context: {shell: ls}
            on_result:
              - exit_code: some
                action: continue
        """, V, "exit_code must be an integer or 'any'", 6, 20),
    ("on-result-bad-regex", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_result:
              - matches: "/(unclosed/"
                action: continue
        """, V, "on_result branch 0 matches:", 6, 18),
    ("on-result-g-flag", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_result:
              - matches: "/x/g"
                action: continue
        """, V, "'g' flag", 6, 18),
    ("regex-lookaround-rejected", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_result:
              - matches: "/foo(?=bar)/"
                action: continue
        """, V, "matches:", 6, 18),
    ("on-result-bad-expression", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_result:
              - expression: "just words"
                action: continue
        """, V, "on_result branch 0 expression:", 6, 21),
    ("field-equals-without-input-schema", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_result:
              field: verdict
              equals: ok
              if_true: {action: continue}
        """, V, "input_schema", 6, 14),
    ("field-not-in-schema", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            input_schema:
              type: object
              properties: {verdict: {type: string}}
            on_result:
              field: other
              equals: ok
              if_true: {action: continue}
        """, V, "field 'other' is not declared", 9, 14),
    ("condition-no-operator", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            condition: "it is sunny"
        """, V, "not a recognised named condition", 5, 16),
    ("condition-empty-lhs", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            condition: "== x"
        """, V, "empty left-hand side", 5, 16),
    ("condition-empty-rhs", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            condition: "{{ step.invocation.prompt }} contains ''"
        """, V, "empty right-hand side", 5, 16),
    ("append-system-prompt-two-keys", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            append_system_prompt:
              - {text: a, shell: b}
        """, V, "append_system_prompt entry 0", 6, 9),
    ("join-bad-on-error", """
        version: "1"
        pipeline:
          - id: x
            async: true
            prompt: x
          - id: j
            action: join
            depends_on: [x]
            on_error: retry
        """, V, "a join accepts only 'fail_fast' or 'wait_for_all'", 9, 15),
    ("fail-fast-outside-join", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_error: fail_fast
        """, V, "unknown on_error value 'fail_fast'", 5, 15),
    ("retry-without-max", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_error: retry
        """, V, "max_retries", 5, 15),
    ("retry-zero-max", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_error: retry
            max_retries: 0
        """, V, "max_retries", 6, 18),
    ("max-retries-without-on-error", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            max_retries: 2
        """, V, "max_retries without on_error", 5, 18),
    ("max-retries-with-continue", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_error: continue
            max_retries: 2
        """, V, "max_retries only applies", 6, 18),
    ("sampling-temperature", """
        version: "1"
        defaults:
          sampling: {temperature: 3.5}
        pipeline:
          - id: a
            prompt: hi
        """, V, "defaults: sampling.temperature must be a finite number in [0.0, 2.0]; got 3.5",
     3, 27),
    ("sampling-provider-top-p", """
        version: "1"
        defaults:
          provider:
            sampling: {top_p: 1.5}
        pipeline:
          - id: a
            prompt: hi
        """, V, "defaults.provider: sampling.top_p", 4, 23),
    ("sampling-step-stop-sequences", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            sampling: {stop_sequences: []}
        """, V, "step 'a': sampling.stop_sequences", 5, 32),
    ("sampling-thinking-range", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            sampling: {thinking: 2}
        """, V, "sampling.thinking", 5, 26),
    ("schema-type-mismatch", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            output_schema: {type: object}
          - id: b
            prompt: hi
            input_schema: {type: array}
        """, S, "expects type 'array'", 8, 19),
    ("schema-missing-required", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            output_schema: {type: object, properties: {x: {type: string}}}
          - id: b
            prompt: hi
            input_schema: {type: object, required: [y]}
        """, S, "requires field 'y'", 8, 19),
    ("orphan-async", """
        version: "1"
        pipeline:
          - id: a
            async: true
            prompt: hi
          - id: b
            prompt: next
        """, V, "not named in any step's depends_on", 4, 5),
    ("join-without-deps", """
        version: "1"
        pipeline:
          - id: j
            action: join
        """, V, "no depends_on list", 4, 13),
    ("depends-on-undeclared", """
        version: "1"
        pipeline:
          - id: a
            async: true
            prompt: hi
          - id: j
            action: join
            depends_on: [a, ghost]
        """, V, "references 'ghost' which is not declared", 8, 21),
    ("depends-on-forward", """
        version: "1"
        pipeline:
          - id: j
            action: join
            depends_on: [a]
          - id: a
            async: true
            prompt: hi
          - id: k
            action: join
            depends_on: [a]
        """, V, "declared later", 5, 18),
    ("depends-on-self", """
        version: "1"
        pipeline:
          - id: j
            action: join
            depends_on: [j]
        """, V, "self-referencing", 5, 18),
    ("concurrent-resume", """
        version: "1"
        pipeline:
          - id: a
            async: true
            resume: true
            prompt: a
          - id: b
            async: true
            resume: true
            prompt: b
          - id: done
            action: join
            depends_on: [a, b]
        """, V, "cannot share a runner session", 9, 13),
    ("structured-join-mixed", """
        version: "1"
        pipeline:
          - id: a
            async: true
            prompt: a
            output_schema: {type: object}
          - id: b
            async: true
            prompt: b
          - id: done
            action: join
            depends_on: [a, b]
            output_schema: {type: object}
        """, V, "dependency 'b' does not declare output_schema", 12, 21),
    ("p7-async-read-without-path", """
        version: "1"
        pipeline:
          - id: a
            async: true
            prompt: a
          - id: b
            prompt: "uses {{ step.a.response }}"
          - id: done
            action: join
            depends_on: [a]
        """, T, "has no dependency path", 7, 19),
    ("template-unclosed", """
        version: "1"
        pipeline:
          - id: a
            prompt: "hello {{ last_response"
        """, T, "without matching", 4, 20),
    ("template-unknown-variable", """
        version: "1"
        pipeline:
          - id: a
            prompt: "hello {{ foo.bar }}"
        """, T, "not a recognised template variable", 4, 20),
    ("template-for-each-outside-loop", """
        version: "1"
        pipeline:
          - id: a
            prompt: "{{ for_each.item }}"
        """, T, "only available inside a for_each loop", 4, 14),
    ("template-in-condition", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            condition: "{{ nope }} == x"
        """, C, "not a recognised template variable", 5, 17),
    ("max-concurrency-negative", """
        version: "1"
        defaults:
          max_concurrency: -1
        pipeline:
          - id: a
            prompt: hi
        """, V, "max_concurrency", 3, 20),
    ("named-pipeline-cycle", """
        version: "1"
        pipeline:
          - id: go
            pipeline: a
        pipelines:
          a:
            - id: call_b
              pipeline: b
          b:
            - id: call_a
              pipeline: a
        """, ErrorType.CIRCULAR_REFERENCE, "a -> b -> a", 6, 3),
    ("named-pipeline-empty", """
        version: "1"
        pipeline:
          - id: go
            pipeline: a
        pipelines:
          a: []
        """, V, "must contain at least one step", 6, 3),
]


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
    finding = matching[0]
    assert finding.error_type == error_type
    assert finding.position is not None
    assert (finding.position.line, finding.position.column) == (line, column)


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
