"""The sequential cursor: step kinds, templates, conditions, on_result, on_error, loops."""

from __future__ import annotations

import re
from pathlib import Path

from ail_tui.engine import events as ev
from ail_tui.pipeline.diagnostics import ErrorType


def test_prompt_and_shell_steps_record_entries(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: diff
            context: {shell: "printf 'a.py | 2 +-\\n'; echo warn >&2"}
          - id: review
            prompt: "Review:\\n{{ step.diff.result }}"
        """)
    assert run.result.status == "completed"
    entries = run.entries()
    assert entries["diff"]["stdout"] == "a.py | 2 +-\n"
    assert entries["diff"]["stderr"] == "warn\n"
    assert entries["diff"]["exit_code"] == 0 and entries["diff"]["response"] is None
    assert entries["review"]["prompt"] == "Review:\na.py | 2 +-\n\nwarn\n"
    assert entries["review"]["response"] == "stub response"
    assert entries["review"]["runner_session_id"] == "stub-session-id"
    started = [e.step_id for e in run.of(ev.StepStarted)]
    assert started == ["diff", "review"]
    assert isinstance(run.events[-1], ev.PipelineCompleted)
    assert run.typed("run_finished")[-1]["status"] == "completed"
    for record in entries.values():
        assert record["launched_at"] <= record["completed_at"]
        assert "concurrent_group" not in record


def test_turn_entry_has_the_fixed_keys(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: a
            prompt: hi
        """)
    record = run.entries()["a"]
    fixed = {"cost_usd", "exit_code", "input_tokens", "modified", "output_tokens", "prompt",
             "response", "runner_session_id", "stderr", "stdout", "step_id", "thinking",
             "tool_events"}
    assert fixed <= set(record)
    assert set(record) - fixed <= {"launched_at", "completed_at", "sampling"}
    first = run.records[0]
    assert first["type"] == "run_started"
    assert set(first) == {"at", "pipeline_source", "project_hash", "type", "pipeline_hash"}
    assert first["pipeline_source"].endswith("p.ail.yaml")
    assert re.fullmatch(r"[0-9a-f]{40}", first["project_hash"])


def test_host_invocation_runs_only_with_a_prompt(run_pipeline) -> None:
    text = """
        version: "1"
        pipeline:
          - id: echo
            prompt: "{{ step.invocation.prompt }} / {{ step.invocation.response }}"
        """
    run = run_pipeline(text, prompt="fix the bug")
    assert run.entries()["invocation"]["prompt"] == "fix the bug"
    assert run.entries()["echo"]["prompt"] == "fix the bug / stub response"
    run = run_pipeline(text)
    assert run.result.status == "failed"
    assert run.result.error_type == ErrorType.UNRESOLVED_VARIABLE
    assert "--prompt" in (run.result.error or "")


def test_conditions_skip_and_default_filter(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: check
            context: {shell: "echo clean"}
          - id: never_runs
            prompt: x
            condition: never
          - id: runs
            prompt: "{{ env.AIL_TUI_UNSET_VAR | default('fallback') }}"
            condition: "{{ step.check.stdout }} contains CLEAN"
          - id: off
            prompt: x
            disabled: true
        """)
    skipped = {e.step_id: e.reason for e in run.of(ev.StepSkipped)}
    assert skipped == {"never_runs": "condition", "off": "disabled"}
    assert run.entries()["runs"]["prompt"] == "fallback"


def test_on_result_break_and_abort(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: a
            context: {shell: "exit 3"}
            on_result:
              - exit_code: 0
                action: continue
              - exit_code: any
                action: break
          - id: b
            prompt: never
        """)
    assert run.result.status == "break" and run.result.step_id == "a"
    assert "b" not in run.entries()
    assert run.events[-1].to_json()["outcome"] == "break"
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: a
            prompt: hi
            on_result:
              - contains: STUB
                action: abort_pipeline
        """)
    assert run.result.status == "aborted"
    assert run.result.error == "Step 'a' on_result fired abort_pipeline"
    assert run.typed("step_error") == []


def test_retry_then_abort_records_step_errors(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: scan
            prompt: scan
            on_error: retry
            max_retries: 2
        """, script={"steps": {"scan": {"error": "Process exited with 1"}}})
    assert run.result.status == "failed"
    assert [e.attempt for e in run.of(ev.StepRetrying)] == [1, 2]
    assert len(run.of(ev.StepFailed)) == 3
    errors = run.typed("step_error")
    assert [(e["on_error_action"], e["retry_attempt"]) for e in errors] == [
        ("retry", 1), ("retry", 2), ("abort_pipeline", 3)]
    assert errors[0] == {"at": errors[0]["at"], "error_detail": "Process exited with 1",
                         "error_type": "ail:runner/invocation-failed", "max_retries": 2,
                         "on_error_action": "retry", "retry_attempt": 1, "step_id": "scan",
                         "type": "step_error"}
    assert len(run.typed("step_started")) == 3


def test_on_error_continue(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: flaky
            prompt: x
            on_error: continue
          - id: next
            prompt: y
        """, script={"steps": {"flaky": {"error": "boom"}}})
    assert run.result.status == "completed"
    assert "flaky" not in run.entries()
    assert run.typed("step_error")[0]["on_error_action"] == "continue"
    assert run.of(ev.StepErrorContinued)[0].error == "boom"


def test_before_then_chains(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: main
            prompt: "Do work."
            before: ["Gather context."]
            then:
              - prompt: "Summarise {{ last_response }}"
        """)
    ids = [r["step_id"] for r in run.records if "type" not in r]
    assert ids == ["main::before::0", "main", "main::then::0"]


def test_do_while_until_exit_when(run_pipeline, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    run = run_pipeline(f"""
        version: "1"
        pipeline:
          - id: fix
            do_while:
              max_iterations: 5
              exit_when: "{{{{ step.check.stdout }}}} contains done"
              steps:
                - id: check
                  context:
                    shell: "echo x >> {counter}; [ $(wc -l < {counter}) -ge 3 ] && echo done"
        """)
    assert run.result.status == "completed"
    assert run.entries()["fix"]["index"] == 3
    assert run.entries()["fix"]["prompt"] == "do_while(max_iterations=5)"
    assert [r["step_id"] for r in run.records if "type" not in r].count("fix::check") == 3


def test_do_while_exhausted(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: loop
            do_while:
              max_iterations: 2
              exit_when: "{{ step.t.exit_code }} == 0"
              steps:
                - id: t
                  context: {shell: "exit 1"}
        """)
    assert run.result.error_type == ErrorType.DO_WHILE_EXHAUSTED


def test_for_each_items(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: plan
            context: {shell: "echo '[\\"a\\", {\\"k\\": 1}, 3]'"}
          - id: each
            for_each:
              over: "{{ step.plan.stdout }}"
              as: task
              max_items: 2
              steps:
                - id: work
                  prompt: "{{ for_each.index }}/{{ for_each.total }} {{ for_each.task }}"
        """)
    prompts = [r["prompt"] for r in run.records if r.get("step_id") == "each::work"
               and "type" not in r]
    assert prompts == ["1/2 a", '2/2 {"k":1}']
    assert run.entries()["each"]["prompt"] == "for_each(items=2)"


def test_named_and_file_sub_pipelines(run_pipeline, tmp_path: Path) -> None:
    (tmp_path / "child.ail.yaml").write_text(
        'version: "1"\npipeline:\n  - id: c\n    prompt: "child got {{ step.invocation.prompt }}"\n'
    )
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: named
            pipeline: review
            prompt: "named input"
          - id: file
            pipeline: ./child.ail.yaml
            prompt: "file input"
        pipelines:
          review:
            - id: r
              prompt: "review {{ step.invocation.prompt }}"
        """)
    entries = run.entries()
    assert entries["named"]["prompt"] == "named:review"
    assert entries["named"]["response"] == "stub response"
    assert entries["file"]["prompt"].endswith("child.ail.yaml")
    runs = list((tmp_path / "runs").glob("*.jsonl"))
    assert len(runs) == 3  # parent + one new session per child


def test_modify_output_headless(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: edit
            action: modify_output
            on_headless: use_default
            default_value: "n/a"
          - id: gate
            action: pause_for_human
        """)
    assert run.entries()["edit"]["modified"] == "n/a"
    assert run.of(ev.Warning_)


def test_output_schema_failure_is_a_step_error(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: a
            prompt: x
            output_schema: {type: object}
        """)
    assert run.result.error_type == ErrorType.OUTPUT_VALIDATION_FAILED


def test_unknown_runner_is_a_clear_error(run_pipeline) -> None:
    run = run_pipeline("""
        version: "1"
        pipeline:
          - id: a
            prompt: x
            runner: gpt9
        """)
    assert run.result.error_type == ErrorType.RUNNER_NOT_FOUND
    assert "not recognized" in (run.result.error or "")
