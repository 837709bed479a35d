"""What a failed claude CLI run means and what to do about it: one line, a stable type.

The CLI reports a failure in several places: a ``result`` with ``is_error`` (its
``errors[]`` or ``result`` text), an ``assistant`` message it made up itself (``error``
set, model ``<synthetic>``), the status of its last API retry, or stderr and an exit
code. :class:`FailureSignals` collects them while the stream is read; the functions here
turn them into a :class:`RunnerError` whose detail says what happened and what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.runners.base import RunnerError

SAID_CHARS = 400
"""How much of the CLI's own words an error detail quotes."""
ROOT_REFUSAL = "cannot be used with root/sudo privileges"
AUTH_ADVICE = ("set ANTHROPIC_API_KEY (or defaults.provider.auth_token), "
               "or run `claude` once and log in with /login")
ROOT_ADVICE = ("claude refuses --dangerously-skip-permissions (headless runs) as root: "
               "run ail-tui as a non-root user, or set IS_SANDBOX=1 if this machine is a "
               "sandbox (ail-tui never sets it for you)")

# (error type, what happened, what to do) by the kind of failure.
_KINDS: dict[str, tuple[str, str, str]] = {
    "auth": (ErrorType.RUNNER_AUTH_FAILED, "claude could not authenticate", AUTH_ADVICE),
    "rate": (ErrorType.RUNNER_RATE_LIMITED, "the API rate-limited claude",
             "wait and run again, or lower defaults.max_concurrency"),
    "overloaded": (ErrorType.RUNNER_OVERLOADED, "the API is overloaded",
                   "run again later, or give the step on_error: retry"),
    "budget": (ErrorType.RUNNER_BUDGET_EXCEEDED, "claude reached its spending limit",
               "raise or remove the budget claude was given (--max-budget-usd)"),
    "max_turns": (ErrorType.RUNNER_MAX_TURNS, "claude reached its turn limit",
                  "raise its limit (CLAUDE_CODE_MAX_TURNS or --max-turns) or split the "
                  "step into smaller ones"),
    "schema": (ErrorType.RUNNER_INVOCATION_FAILED,
               "claude gave up producing output that matches the schema",
               "simplify the output schema or the prompt"),
    "billing": (ErrorType.RUNNER_INVOCATION_FAILED, "the API refused claude's account",
                "check the account's billing and credit balance"),
    "no_session": (ErrorType.RUNNER_INVOCATION_FAILED,
                   "the claude session to resume is gone",
                   "remove resume: true from the step, or run the steps before it again"),
    "server": (ErrorType.RUNNER_INVOCATION_FAILED, "the API failed",
               "run again later, or give the step on_error: retry"),
    "offline": (ErrorType.RUNNER_INVOCATION_FAILED, "claude could not reach the API",
                "check the network, or ANTHROPIC_BASE_URL / defaults.provider.base_url"),
}
_SUBTYPES = {"error_max_turns": "max_turns", "error_max_budget_usd": "budget",
             "error_max_structured_output_retries": "schema"}
_ASSISTANT_ERRORS = {"authentication_failed": "auth", "billing_error": "billing",
                     "rate_limit": "rate"}
_STATUSES = {401: "auth", 403: "auth", 429: "rate", 529: "overloaded"}
_NO_SESSION = re.compile(r"no conversation found", re.I)
_PATTERNS = (
    ("auth", re.compile(r"not logged in|invalid api key|/login|authentication_error|"
                        r"oauth token has expired", re.I)),
    ("billing", re.compile(r"credit balance is too low|billing_error", re.I)),
    ("rate", re.compile(r"rate_limit|rate limit|api error:? 429", re.I)),
    ("overloaded", re.compile(r"overloaded|api error:? 529", re.I)),
    ("offline", re.compile(r"connection error|connection refused|econnrefused|"
                           r"unable to connect|fetch failed|enotfound", re.I)),
)


@dataclass
class FailureSignals:
    """What the stream said about a failure before its ``result`` line (or its end)."""

    assistant_error: str | None = None  # an assistant message's ``error`` field
    synthetic_text: list[str] = field(default_factory=list)  # text the CLI made up
    retry_status: int | None = None  # the HTTP status of the last API retry
    error_line: str | None = None  # a top-level ``{"type": "error"}`` line's message


def one_line(text: str, limit: int = SAID_CHARS) -> str:
    """``text`` on one line (whitespace runs collapsed), at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def status_code(value: Any) -> int | None:
    """An HTTP status from the stream: an int, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _kind(said: str, signals: FailureSignals, *, subtype: Any = None,
          status: int | None = None) -> str | None:
    if isinstance(subtype, str) and subtype in _SUBTYPES:
        return _SUBTYPES[subtype]
    if _NO_SESSION.search(said):
        return "no_session"
    if signals.assistant_error in _ASSISTANT_ERRORS:
        return _ASSISTANT_ERRORS[signals.assistant_error]
    for code in (status, signals.retry_status):
        if code in _STATUSES:
            return _STATUSES[code]
        if code is not None and 500 <= code < 600:
            return "server"
    found = next((name for name, pattern in _PATTERNS if pattern.search(said)), None)
    return found or ("server" if signals.assistant_error == "server_error" else None)


def _error(kind: str | None, said: str) -> RunnerError:
    if kind is None:
        return RunnerError(ErrorType.RUNNER_INVOCATION_FAILED, said)
    error_type, what, advice = _KINDS[kind]
    return RunnerError(error_type, f"{what}: {advice} (claude said: {said})")


def result_failure(data: dict[str, Any], signals: FailureSignals) -> RunnerError:
    """The error for a ``result`` line that reports a failure."""
    errors = data.get("errors")
    texts = [str(item) for item in errors if item] if isinstance(errors, list) else []
    answer = data.get("result")
    if not texts and isinstance(answer, str) and answer.strip():
        texts = [answer]
    texts = texts or signals.synthetic_text or (
        [signals.error_line] if signals.error_line else [])
    subtype = data.get("subtype")
    said = one_line("; ".join(texts)) or f"claude CLI reported an error (subtype: {subtype})"
    return _error(_kind(said, signals, subtype=subtype,
                        status=status_code(data.get("api_error_status"))), said)


def exit_failure(code: int | None, stderr_tail: str, signals: FailureSignals) -> RunnerError:
    """The error for a CLI that exited non-zero without a ``result`` line."""
    if ROOT_REFUSAL in stderr_tail:
        return RunnerError(ErrorType.RUNNER_REFUSED_AS_ROOT,
                           f"{ROOT_ADVICE} (claude said: {one_line(stderr_tail)})")
    said = " | ".join(line for line in stderr_tail.splitlines() if line.strip())
    detail = f"Process exited with {code}" + (f": {said}" if said else "")
    kind = _kind(" ".join([stderr_tail, *signals.synthetic_text]), signals)
    if kind is None:
        return RunnerError(ErrorType.RUNNER_INVOCATION_FAILED, detail)
    error_type, what, advice = _KINDS[kind]
    return RunnerError(error_type, f"{detail}; {what}: {advice}")


def stream_end_failure(signals: FailureSignals) -> RunnerError:
    """The error for a stream that ended (exit 0) without a ``result`` line."""
    texts = signals.synthetic_text or ([signals.error_line] if signals.error_line else [])
    if not texts:
        return RunnerError(ErrorType.RUNNER_INVOCATION_FAILED,
                           "Stream ended without a 'result' event")
    said = one_line("; ".join(texts))
    return _error(_kind(said, signals), said)
