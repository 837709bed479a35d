"""Which runners a pipeline needs, and whether each can run here, before a run starts."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ail_tui.pipeline.loader import Pipeline
from ail_tui.pipeline.models import Provider, Step
from ail_tui.runners.claude_check import check_claude
from ail_tui.runners.http import http_base_url
from ail_tui.runners.registry import KNOWN, UNSUPPORTED


@dataclass(frozen=True)
class RunnerCheck:
    """One runner's verdict: can it be used, and what the user should know."""

    name: str
    available: bool
    detail: str


def _step_runners(steps: Iterable[Step | str], default: str) -> Iterable[str]:
    for step in steps:
        if isinstance(step, str):  # a chain entry written as a bare prompt
            yield default
            continue
        if step.disabled:
            continue
        if step.prompt is not None or step.skill is not None:
            yield step.runner or default
        for chain in (step.before, step.then):
            yield from _step_runners(chain or (), default)
        for loop in (step.do_while, step.for_each):
            if loop is not None:
                yield from _step_runners(loop.steps or (), default)


def needed_runners(pipeline: Pipeline, session_runner: str,
                   *, invocation: bool = False) -> list[str]:
    """The runner names the pipeline's prompt steps use (named pipelines included).

    ``invocation`` counts the host's invocation prompt, which runs on the session runner.
    Sub-pipelines in other files are not followed.
    """
    names = list(_step_runners(pipeline.steps, session_runner))
    for steps in pipeline.pipelines.values():
        names.extend(_step_runners(steps, session_runner))
    if invocation:
        names.append(session_runner)
    return sorted({name.strip().lower() for name in names})


def check_runner(name: str, provider: Provider | None = None, *, timeout: float = 0.5,
                 claude: str = "claude", headless: bool = False) -> RunnerCheck:
    """Whether runner ``name`` can run on this machine (a bounded check, off the UI thread).

    ``claude`` is started once (``--version``); ``headless`` runs are refused as root.
    """
    if name == "stub":
        return RunnerCheck(name, True, "offline stub")
    if name == "claude":
        found = shutil.which(claude)
        if found is None:
            return RunnerCheck(name, False, "the claude CLI is not on PATH: install Claude "
                                            "Code, or choose another runner (--runner)")
        available, detail = check_claude(found, provider, headless=headless,
                                         env=os.environ, home=Path.home())
        return RunnerCheck(name, available, detail)
    if name in ("http", "ollama"):
        url = http_base_url(provider.base_url if provider else None, os.environ)
        return _reachable(name, url, timeout)
    if name in UNSUPPORTED:
        return RunnerCheck(name, False, UNSUPPORTED[name])
    known = ", ".join(KNOWN)
    return RunnerCheck(name, False, f"not a known runner (known: {known})")


def _reachable(name: str, url: str, timeout: float) -> RunnerCheck:
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return RunnerCheck(name, False, f"base URL '{url}' is not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        return RunnerCheck(name, False, f"cannot connect to {url}: {reason}")
    return RunnerCheck(name, True, url)
