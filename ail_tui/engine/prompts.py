"""Turning a prompt step into a runner request: files, templates, model, tools, sampling."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ail_tui.cancel import CancelToken
from ail_tui.engine.errors import StepError
from ail_tui.engine.shell import run_shell
from ail_tui.engine.state import RunState, Scope
from ail_tui.files import FileReadError, read_text_file
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.loader import is_file_reference, resolve_path
from ail_tui.pipeline.models import Defaults, Provider, Sampling, Step
from ail_tui.runners.base import RunnerRequest, ToolPolicyOptions

SAMPLING_KEYS = ("max_tokens", "stop_sequences", "temperature", "thinking", "top_k", "top_p")


def read_prompt_source(text: str, base_dir: Path, step_id: str, what: str = "prompt") -> str:
    """Inline text as is, or the contents of a prompt file (paths starting ./ ../ ~/ /)."""
    if not is_file_reference(text):
        return text
    try:
        return read_text_file(resolve_path(text, base_dir))
    except FileReadError as exc:
        raise StepError(ErrorType.FILE_NOT_FOUND,
                        f"Step '{step_id}' {what} file '{text}' could not be read: {exc}"
                        ) from None


def effective_sampling(defaults: Defaults, step: Step) -> dict[str, Any]:
    """Field merge: defaults.sampling < defaults.provider.sampling < step.sampling."""
    merged: dict[str, Any] = {}
    layers: list[Sampling | None] = [
        defaults.sampling,
        defaults.provider.sampling if defaults.provider else None,
        step.sampling,
    ]
    for layer in layers:
        if layer is None:
            continue
        for key in SAMPLING_KEYS:
            value = getattr(layer, key)
            if value is not None:
                merged[key] = 1.0 if value is True else 0.0 if value is False else value
    return merged


def effective_model(defaults: Defaults, step: Step, cli_model: str | None) -> str | None:
    """defaults (provider.model beats model) < step.model < the CLI's --model."""
    model = defaults.model
    if defaults.provider is not None and defaults.provider.model:
        model = defaults.provider.model
    if step.model:
        model = step.model
    return cli_model or model


_RUNNER_DEFAULT = ToolPolicyOptions()


def tool_policy(defaults: Defaults, step: Step) -> ToolPolicyOptions:
    """The step's own `tools:` or else `defaults.tools` (replaced, not merged)."""
    policy = step.tools or defaults.tools
    if policy is None:
        return _RUNNER_DEFAULT
    if policy.disabled:
        return ToolPolicyOptions("no_tools")
    allow, deny = tuple(policy.allow), tuple(policy.deny)
    if allow and deny:
        return ToolPolicyOptions("mixed", allow, deny)
    if allow:
        return ToolPolicyOptions("allowlist", allow)
    if deny:
        return ToolPolicyOptions("denylist", (), deny)
    return _RUNNER_DEFAULT


def _append_prompts(step: Step, state: RunState, scope: Scope, cancel: CancelToken,
                    base_dir: Path) -> tuple[str, ...]:
    out: list[str] = []
    for entry in step.append_system_prompt or ():
        if isinstance(entry, str):
            out.append(state.render(entry, scope))
        elif entry.text is not None:
            out.append(state.render(entry.text, scope))
        elif entry.file is not None:
            path = Path(os.path.expanduser(state.render(entry.file, scope)))
            try:
                out.append(state.render(read_text_file(path), scope))
            except FileReadError as exc:
                raise StepError(ErrorType.FILE_NOT_FOUND,
                                f"Step '{step.id}' append_system_prompt file '{entry.file}' "
                                f"could not be read: {exc}") from None
        elif entry.shell is not None:
            result = run_shell(state.render(entry.shell, scope), cancel, timeout=120)
            out.append(result.stdout)
    return tuple(out)


def build_request(
    step: Step,
    step_id: str,
    prompt: str,
    *,
    defaults: Defaults,
    state: RunState,
    scope: Scope,
    cancel: CancelToken,
    base_dir: Path,
    cli_model: str | None,
    headless: bool,
    cwd: str | None = None,
) -> RunnerRequest:
    """The runner request for a prompt or skill step whose prompt is already rendered."""
    system = None
    if step.system_prompt is not None:
        source = read_prompt_source(step.system_prompt, base_dir, step_id, "system_prompt")
        system = state.render(source, scope)
    provider = defaults.provider
    return RunnerRequest(
        step_id=step_id,
        prompt=prompt,
        model=effective_model(defaults, step, cli_model),
        resume_session_id=state.last_session_id() if step.resume else None,
        system_prompt=system,
        append_system_prompts=(_append_prompts(step, state, scope, cancel, base_dir)
                               if step.append_system_prompt else ()),
        tools=tool_policy(defaults, step),
        sampling=effective_sampling(defaults, step),
        output_schema=step.output_schema,
        headless=headless,
        cwd=cwd,
        **(_provider_options(provider) if provider is not None else {}),
    )


def _provider_options(provider: Provider) -> dict[str, Any]:
    """What a request takes from ``defaults.provider``."""
    return {
        "base_url": provider.base_url,
        "auth_token": provider.auth_token,
        "connect_timeout_seconds": _number(provider.connect_timeout_seconds),
        "read_timeout_seconds": _number(provider.read_timeout_seconds),
        "max_history_messages": provider.max_history_messages,
        "input_cost_per_1k": _number(provider.input_cost_per_1k),
        "output_cost_per_1k": _number(provider.output_cost_per_1k),
    }


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
