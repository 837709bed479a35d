"""Rules about one step's own fields (brief §3.6)."""

from __future__ import annotations

import math

from ail_tui.pipeline.conditions import ConditionSyntaxError, parse_condition, parse_exit_when
from ail_tui.pipeline.models import MATCHER_KEYS, ResultBranch, ResultSwitch, Step
from ail_tui.pipeline.regex_literal import RegexLiteralError, parse_regex_literal
from ail_tui.pipeline.source import Position
from ail_tui.pipeline.validation.findings import Findings
from ail_tui.pipeline.validation.reconcile import check_reconcile
from ail_tui.pipeline.validation.sampling import check_sampling
from ail_tui.pipeline.validation.schemas import check_step_schemas
from ail_tui.pipeline.validation.unsupported import check_unsupported

ACTIONS = ("pause_for_human", "modify_output", "join", "reload_self")
RESULT_ACTIONS = ("continue", "break", "abort_pipeline", "pause_for_human")
ON_HEADLESS = ("skip", "abort", "use_default")
ON_ERROR = ("continue", "retry", "abort_pipeline", "pause_for_human")
JOIN_ON_ERROR = ("fail_fast", "wait_for_all")
ON_MAX_ITEMS = ("continue", "abort_pipeline")
PRIMARY_NAMES = "prompt, skill, pipeline, action, context, do_while, or for_each"
MATCHER_NAMES = "contains, exit_code, matches, expression, always"


def _is_identifier(text: str) -> bool:
    return text.isascii() and text.isidentifier()


def check_primary(step: Step, findings: Findings) -> bool:
    """Exactly one primary field; returns whether the step has one."""
    found = step.primary_fields()
    if len(found) == 1:
        return True
    where = step.key_pos(found[1].value) if len(found) > 1 else step.pos()
    findings.error(
        f"{step.label} must have exactly one primary field ({PRIMARY_NAMES}); "
        f"found {len(found)}" + (f" ({', '.join(k.value for k in found)})" if found else ""),
        where,
        step.id,
    )
    return False


def check_action(step: Step, findings: Findings) -> None:
    """Known actions, and the human-gate fields that go with them."""
    if step.action is not None and step.action not in ACTIONS:
        findings.error(
            f"{step.label} specifies unknown action '{step.action}' "
            f"(supported: {', '.join(ACTIONS)})",
            step.pos("action"),
            step.id,
        )
    if step.on_headless is not None and step.on_headless not in ON_HEADLESS:
        findings.error(
            f"{step.label} has on_headless '{step.on_headless}'; supported values are "
            "'skip', 'abort', and 'use_default'",
            step.pos("on_headless"),
            step.id,
        )
    if step.on_headless == "use_default" and step.default_value is None:
        findings.error(
            f"{step.label} declares on_headless: use_default but no default_value",
            step.pos("on_headless"),
            step.id,
        )


def check_skill_and_context(step: Step, findings: Findings) -> None:
    """A skill name is not blank; a context step has exactly one source."""
    if step.skill is not None and not step.skill.strip():
        findings.error(f"{step.label} has an empty skill name", step.pos("skill"), step.id)
    if step.context is not None:
        sources = [k for k in ("shell", "spec") if getattr(step.context, k) is not None]
        if len(sources) != 1:
            findings.error(
                f"{step.label} context must declare exactly one source (shell or spec); "
                f"found {len(sources)}",
                step.pos("context"),
                step.id,
            )


def check_on_error(step: Step, findings: Findings) -> None:
    """on_error values, retry counts, and the join modes."""
    mode, retries = step.on_error, step.max_retries
    if step.is_join:
        if mode is not None and mode not in JOIN_ON_ERROR:
            findings.error(
                f"{step.label} (action: join) has on_error '{mode}'; a join accepts only "
                "'fail_fast' or 'wait_for_all'",
                step.pos("on_error"),
                step.id,
            )
        return
    if mode is None:
        if retries is not None:
            findings.error(
                f"{step.label} declares max_retries without on_error: retry",
                step.pos("max_retries"),
                step.id,
            )
        return
    if mode not in ON_ERROR:
        findings.error(
            f"{step.label} has unknown on_error value '{mode}'; supported values are "
            "'continue', 'retry', 'abort_pipeline', and 'pause_for_human'",
            step.pos("on_error"),
            step.id,
        )
    elif mode == "retry" and (retries is None or retries < 1):
        findings.error(
            f"{step.label} declares on_error: retry but max_retries is "
            + ("missing" if retries is None else str(retries))
            + "; set max_retries to 1 or more",
            step.pos("max_retries" if retries is not None else "on_error"),
            step.id,
        )
    elif mode != "retry" and retries is not None:
        findings.error(
            f"{step.label} declares max_retries with on_error: {mode}; "
            "max_retries only applies to on_error: retry",
            step.pos("max_retries"),
            step.id,
        )


def check_condition(step: Step, findings: Findings) -> None:
    """A condition parses (brief §5)."""
    if step.condition is None:
        return
    try:
        parse_condition(step.condition)
    except (ConditionSyntaxError, RegexLiteralError) as exc:
        findings.error(f"{step.label} condition: {exc}", step.pos("condition"), step.id)


def _check_action_text(
    step: Step, action: str | None, where: Position | None, label: str, findings: Findings
) -> None:
    if action is None:
        findings.error(f"{step.label} {label} must declare an 'action'", where, step.id)
        return
    if action.startswith("pipeline:"):
        if not action[len("pipeline:"):].strip():
            findings.error(
                f"{step.label} {label} action 'pipeline:' requires a path", where, step.id
            )
        return
    if action not in RESULT_ACTIONS:
        findings.error(
            f"{step.label} {label} has unknown action '{action}' (supported: "
            f"{', '.join(RESULT_ACTIONS)}, or 'pipeline: <path>')",
            where,
            step.id,
        )


def _check_matcher(step: Step, branch: ResultBranch | ResultSwitch, label: str,
                   findings: Findings) -> None:
    if isinstance(branch.exit_code, str) and branch.exit_code != "any":
        findings.error(
            f"{step.label} {label} exit_code must be an integer or 'any'; "
            f"got '{branch.exit_code}'",
            branch.pos("exit_code"),
            step.id,
        )
    if branch.matches is not None:
        try:
            parse_regex_literal(branch.matches)
        except RegexLiteralError as exc:
            findings.error(f"{step.label} {label} matches: {exc}", branch.pos("matches"),
                           step.id)
    if branch.expression is not None:
        try:
            parse_condition(branch.expression)
        except (ConditionSyntaxError, RegexLiteralError) as exc:
            findings.error(f"{step.label} {label} expression: {exc}",
                           branch.pos("expression"), step.id)


def check_on_result(step: Step, findings: Findings) -> None:
    """on_result in list form (one matcher + action per branch) or map form."""
    result = step.on_result
    if result is None:
        return
    if isinstance(result, list):
        for index, branch in enumerate(result):
            label = f"on_result branch {index}"
            matchers = branch.matchers()
            if len(matchers) != 1:
                findings.error(
                    f"{step.label} {label} must have exactly one matcher ({MATCHER_NAMES}); "
                    f"found {len(matchers)}",
                    branch.pos(),
                    step.id,
                )
            _check_matcher(step, branch, label, findings)
            _check_action_text(step, branch.action, branch.pos("action"), label, findings)
        return
    matchers = result.matchers()
    if len(matchers) != 1:
        findings.error(
            f"{step.label} on_result must have exactly one matcher (field/equals, "
            f"{', '.join(MATCHER_KEYS)}); found {len(matchers)}",
            result.pos(),
            step.id,
        )
    _check_matcher(step, result, "on_result", findings)
    if matchers == ["field"]:
        _check_field_equals(step, result, findings)
    if result.if_true is None:
        findings.error(f"{step.label} on_result must declare 'if_true'", result.pos(), step.id)
    for arm in ("if_true", "if_false"):
        action = getattr(result, arm)
        if action is not None:
            _check_action_text(step, action.action, action.pos("action"), f"on_result {arm}",
                               findings)


def _check_field_equals(step: Step, result: ResultSwitch, findings: Findings) -> None:
    if result.field is None or "equals" not in result.model_fields_set:
        findings.error(
            f"{step.label} on_result field/equals form needs both 'field' and 'equals'",
            result.pos(),
            step.id,
        )
    schema = step.input_schema
    if not isinstance(schema, dict):
        findings.error(
            f"{step.label} on_result uses field/equals but the step declares no "
            "input_schema; field/equals reads the preceding output validated by input_schema",
            result.pos("field"),
            step.id,
        )
        return
    properties = schema.get("properties")
    required = schema.get("required")
    known = set(properties) if isinstance(properties, dict) else set()
    known |= {r for r in required if isinstance(r, str)} if isinstance(required, list) else set()
    if result.field is not None and result.field not in known:
        findings.error(
            f"{step.label} on_result field '{result.field}' is not declared in the "
            "input_schema's properties or required list",
            result.pos("field"),
            step.id,
        )


def check_append_system_prompt(step: Step, findings: Findings) -> None:
    """Map entries of append_system_prompt have exactly one of text, file, shell, spec."""
    for index, entry in enumerate(step.append_system_prompt or ()):
        if isinstance(entry, str):
            continue
        keys = [k for k in ("text", "file", "shell", "spec") if getattr(entry, k) is not None]
        if len(keys) != 1:
            findings.error(
                f"{step.label} append_system_prompt entry {index} must have exactly one of "
                f"text, file, shell, spec; found {len(keys)}",
                step.item_pos("append_system_prompt", index),
                step.id,
            )


def _loop_pos(step: Step, kind: str, key: str | None = None) -> Position | None:
    """Where a loop field is written, or the loop's own key when the field is absent."""
    loop = getattr(step, kind)
    if key is not None and loop is not None and key in (loop.marks.keys if loop.marks else {}):
        found: Position | None = loop.pos(key)
        return found
    return step.key_pos(kind)


def check_do_while(step: Step, findings: Findings) -> None:
    """do_while needs max_iterations >= 1, a comparison exit_when, and one body."""
    loop = step.do_while
    if loop is None:
        return
    if loop.max_iterations is None or loop.max_iterations < 1:
        findings.error(
            f"{step.label} do_while requires max_iterations of 1 or more"
            + ("" if loop.max_iterations is None else f"; got {loop.max_iterations}"),
            _loop_pos(step, "do_while", "max_iterations"),
            step.id,
        )
    if loop.exit_when is None:
        findings.error(f"{step.label} do_while requires exit_when", _loop_pos(step, "do_while"),
                       step.id)
    else:
        try:
            parse_exit_when(loop.exit_when)
        except (ConditionSyntaxError, RegexLiteralError) as exc:
            findings.error(f"{step.label} do_while exit_when: {exc}",
                           loop.pos("exit_when"), step.id)
    if loop.on_max_iterations is not None and loop.on_max_iterations not in (
        "abort_pipeline", "continue"
    ):
        findings.error(
            f"{step.label} do_while on_max_iterations must be 'abort_pipeline' or "
            f"'continue'; got '{loop.on_max_iterations}'",
            loop.pos("on_max_iterations"),
            step.id,
        )
    _check_body(step, "do_while", loop.steps, loop.pipeline, _loop_pos(step, "do_while"), findings)


def check_for_each(step: Step, findings: Findings) -> None:
    """for_each needs `over`, an identifier `as`, max_items >= 1 and one body."""
    loop = step.for_each
    if loop is None:
        return
    if loop.over is None or not loop.over.strip():
        findings.error(f"{step.label} for_each requires a non-empty 'over'",
                       _loop_pos(step, "for_each", "over"), step.id)
    if loop.as_ is not None and not _is_identifier(loop.as_):
        findings.error(
            f"{step.label} for_each 'as' must be an identifier (letters, digits, _); "
            f"got '{loop.as_}'",
            loop.pos("as"),
            step.id,
        )
    if loop.max_items is not None and loop.max_items < 1:
        findings.error(f"{step.label} for_each max_items must be 1 or more; got "
                       f"{loop.max_items}", loop.pos("max_items"), step.id)
    if loop.on_max_items is not None and loop.on_max_items not in ON_MAX_ITEMS:
        findings.error(
            f"{step.label} for_each on_max_items must be 'continue' or 'abort_pipeline'; "
            f"got '{loop.on_max_items}'",
            loop.pos("on_max_items"),
            step.id,
        )
    _check_body(step, "for_each", loop.steps, loop.pipeline, _loop_pos(step, "for_each"), findings)


def _check_body(step: Step, kind: str, steps: object, pipeline: str | None,
                where: Position | None, findings: Findings) -> None:
    if steps is not None and pipeline is not None:
        findings.error(
            f"{step.label} {kind}: 'steps' and 'pipeline' are mutually exclusive", where,
            step.id,
        )
    elif steps is None and pipeline is None:
        findings.error(
            f"{step.label} {kind} requires either 'steps' or 'pipeline' (neither given)",
            where,
            step.id,
        )
    elif steps is not None and not steps:
        findings.error(f"{step.label} {kind} 'steps' must not be empty", where, step.id)


def check_step_fields(step: Step, findings: Findings, has_from: bool, chain: bool = False,
                      ) -> None:
    """Every rule about a step's own fields, all reported.

    Chain entries (``chain=True``) ignore condition, on_error, max_retries and sampling.
    """
    for op, target in step.hooks():
        if not has_from:
            findings.error(
                f"Step declares hook operation '{op}: {target}' but the pipeline has no FROM "
                "field; hook operations only apply to inherited pipelines",
                step.key_pos(op),
                step.id,
            )
    if not step.hooks():
        check_primary(step, findings)
    check_action(step, findings)
    check_skill_and_context(step, findings)
    check_reconcile(step, findings)
    if not chain:
        check_on_error(step, findings)
        check_condition(step, findings)
        check_sampling(step.sampling, f"step '{step.id}'", findings, step.id)
    check_on_result(step, findings)
    check_append_system_prompt(step, findings)
    check_unsupported(step, findings)
    check_do_while(step, findings)
    check_for_each(step, findings)
    check_step_schemas(step, findings)
    timeout = step.timeout_seconds
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        findings.error(f"{step.label} timeout_seconds must be a finite number above 0; got "
                       f"{timeout}", step.pos("timeout_seconds"), step.id)
