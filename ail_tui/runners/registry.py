"""Choosing a runner by name (brief §12): step ``runner:`` → session default → ``claude``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import Runner, RunnerError
from ail_tui.runners.http_history import ConversationStore
from ail_tui.runners.stub import DEFAULT_RESPONSE, StubRunner, StubScript

KNOWN = ("claude", "http", "ollama", "stub")
"""Runner names ail-tui can run."""

UNSUPPORTED = {
    "codex": "the codex runner is not supported by ail-tui; use claude, http or ollama",
}
"""Names the AIL language knows that ail-tui does not run, with what to use instead."""


def session_default(cli_runner: str | None) -> str:
    """The session's runner: the CLI's ``--runner``, else ``AIL_DEFAULT_RUNNER``, else claude."""
    if cli_runner is not None:
        return cli_runner
    return os.environ.get("AIL_DEFAULT_RUNNER", "claude")


@dataclass
class RunnerFactory:
    """Makes a fresh runner for each step that needs one.

    HTTP conversations (``resume: true``) live in one store shared by the runners this
    factory makes, so a later step can continue an earlier step's session.
    """

    stub_response: str = DEFAULT_RESPONSE
    stub_script: StubScript | None = None
    claude_executable: str = "claude"
    conversations: ConversationStore = field(default_factory=ConversationStore)

    @staticmethod
    def check(name: str) -> None:
        """Raise ``ail:runner/not-found`` unless ``name`` is a runner ail-tui can run."""
        key = name.strip().lower()
        if key in UNSUPPORTED:
            raise RunnerError(ErrorType.RUNNER_NOT_FOUND,
                              f"Runner '{key}': {UNSUPPORTED[key]}")
        if key not in KNOWN:
            raise RunnerError(
                ErrorType.RUNNER_NOT_FOUND,
                f"Runner '{name}' is not recognized; known runners are {', '.join(KNOWN)}",
            )

    def create(self, name: str) -> Runner:
        """A runner for ``name`` (trimmed, lowercased); raise ``ail:runner/not-found``."""
        self.check(name)
        key = name.strip().lower()
        if key == "stub":
            return StubRunner(self.stub_response, self.stub_script)
        # Imported when chosen: a run that needs no HTTP runner never loads httpx.
        if key == "claude":
            from ail_tui.runners.claude import ClaudeCliRunner

            return ClaudeCliRunner(self.claude_executable)
        from ail_tui.runners.http import HttpRunner

        return HttpRunner(self.conversations, ollama=key == "ollama")

