"""Invalid pipelines and where each error is reported: the second half of the rules (brief §3).

Each case: (id, pipeline text, error_type, detail substring, line, column).
"""

from ail_tui.pipeline.diagnostics import ErrorType

V = ErrorType.VALIDATION_FAILED
T = ErrorType.UNRESOLVED_VARIABLE
C = ErrorType.CONDITION_INVALID
S = ErrorType.SCHEMA_COMPATIBILITY_FAILED

CASES = [
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
        """, V, "has no dependency path", 7, 19),
    ("p7-async-read-in-a-condition", """
        version: "1"
        pipeline:
          - id: a
            async: true
            prompt: a
          - id: b
            prompt: hi
            condition: "{{ step.a.response }} contains ok"
          - id: done
            action: join
            depends_on: [a]
        """, V, "has no dependency path", 8, 17),
    ("unsupported-reload-self", """
        version: "1"
        pipeline:
          - id: again
            action: reload_self
        """, V, "reload_self (SPEC §21), which ail-tui does not support", 4, 13),
    ("unsupported-context-spec", """
        version: "1"
        pipeline:
          - id: ask
            context:
              spec: "what is a step?"
        """, V, "context: spec (SPEC §31.4), which ail-tui does not support", 5, 13),
    ("unsupported-append-spec", """
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            append_system_prompt:
              - text: "be brief"
              - spec: "the pipeline language"
        """, V, "append_system_prompt entry 1 uses spec: (SPEC §31.5)", 7, 15),
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
