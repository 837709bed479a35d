"""Invalid pipelines and where each error is reported: the first half of the rules (brief §3).

Each case: (id, pipeline text, error_type, detail substring, line, column).
"""

from ail_tui.pipeline.diagnostics import ErrorType

V = ErrorType.VALIDATION_FAILED

CASES = [
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
]
