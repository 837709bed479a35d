"""Range checks of `sampling:` blocks (brief §1)."""

from __future__ import annotations

import math

from ail_tui.pipeline.models import Sampling
from ail_tui.pipeline.validation.findings import Findings


def _number_in(value: object, low: float, high: float) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )


def check_sampling(
    sampling: Sampling | None, scope: str, findings: Findings, step_id: str | None = None
) -> None:
    """Report every out-of-range sampling field; ``scope`` starts the message."""
    if sampling is None:
        return

    def bad(name: str, rule: str, value: object) -> None:
        findings.error(
            f"{scope}: sampling.{name} must be {rule}; got {value!r}", sampling.pos(name), step_id
        )

    if sampling.temperature is not None and not _number_in(sampling.temperature, 0.0, 2.0):
        bad("temperature", "a finite number in [0.0, 2.0]", sampling.temperature)
    if sampling.top_p is not None and not _number_in(sampling.top_p, 0.0, 1.0):
        bad("top_p", "a finite number in [0.0, 1.0]", sampling.top_p)
    if sampling.top_k is not None and sampling.top_k < 1:
        bad("top_k", "an integer >= 1", sampling.top_k)
    if sampling.max_tokens is not None and sampling.max_tokens < 1:
        bad("max_tokens", "an integer >= 1", sampling.max_tokens)
    stops = sampling.stop_sequences
    if stops is not None and (not stops or any(not s for s in stops)):
        bad("stop_sequences", "a non-empty list of non-empty strings", stops)
    thinking = sampling.thinking
    if thinking is not None and not isinstance(thinking, bool) and not _number_in(thinking, 0, 1):
        bad("thinking", "a boolean or a finite number in [0.0, 1.0]", thinking)
