"""Choosing a runner by name (brief §12): step ``runner:`` → session default → ``claude``."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import Runner, RunnerError
from ail_tui.runners.stub import DEFAULT_RESPONSE, StubRunner, StubScript

KNOWN = ("claude", "codex", "http", "ollama", "stub")


def session_default(cli_runner: str | None) -> str:
    """The session's runner: the CLI's ``--runner``, else ``AIL_DEFAULT_RUNNER``, else claude."""
    if cli_runner is not None:
        return cli_runner
    return os.environ.get("AIL_DEFAULT_RUNNER", "claude")


@dataclass
class RunnerFactory:
    """Makes a fresh runner for each step that needs one."""

    stub_response: str = DEFAULT_RESPONSE
    stub_script: StubScript | None = None

    def create(self, name: str) -> Runner:
        """A runner for ``name`` (trimmed, lowercased); raise ``ail:runner/not-found``."""
        key = name.strip().lower()
        if key == "stub":
            return StubRunner(self.stub_response, self.stub_script)
        if key in KNOWN:
            raise RunnerError(
                ErrorType.RUNNER_NOT_FOUND,
                f"Runner '{key}' is not available in this version of ail-tui yet; "
                "run with --runner stub (or --stub-response / --stub-script) to run offline",
            )
        raise RunnerError(
            ErrorType.RUNNER_NOT_FOUND,
            f"Runner '{name}' is not recognized; known runners are {', '.join(KNOWN)}",
        )
