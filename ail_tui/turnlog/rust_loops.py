"""Loop iterations of a Rust log, which names none on its records.

Rust writes a loop's ``step_started`` (``do_while(max_iterations=N)`` /
``for_each(items=K)``), then its inner steps as ``<loop>::<inner>`` for every iteration,
then the loop's own entry (brief §7). Ours carry ``iteration`` (1-based, outermost
first) on each record; for a Rust log the same is worked out here: an inner step met
again in the same loop begins the loop's next iteration (a retry does not).
"""

from __future__ import annotations

from dataclasses import dataclass, field

LOOP_PROMPTS = ("do_while(max_iterations=", "for_each(items=")


@dataclass
class _Loop:
    step_id: str
    count: int = 1
    seen: set[str] = field(default_factory=set)

    @property
    def prefix(self) -> str:
        return self.step_id + "::"


class RustLoops:
    """The loops open at the record being read, and their iterations."""

    def __init__(self) -> None:
        self._open: list[_Loop] = []

    def place(self, step_id: str, kind: str, prompt: str | None,
              new_attempt: bool) -> tuple[int, ...] | None:
        """The iteration of a record of ``step_id`` (None: outside every loop).

        ``new_attempt``: the record begins an attempt that is not a retry.
        """
        while self._open and not (step_id == self._open[-1].step_id
                                  or step_id.startswith(self._open[-1].prefix)):
            self._open.pop()  # a loop that ended without its entry (it failed)
        if self._open and step_id == self._open[-1].step_id:
            if kind != "step_started":
                self._open.pop()  # the loop's own entry (or error): it is over
            return self.iteration()
        if self._open and new_attempt:
            loop = self._open[-1]
            if step_id in loop.seen:
                loop.count += 1
                loop.seen.clear()
            loop.seen.add(step_id)
        iteration = self.iteration()
        if kind == "step_started" and prompt is not None and prompt.startswith(LOOP_PROMPTS):
            self._open.append(_Loop(step_id))
        return iteration

    def iteration(self) -> tuple[int, ...] | None:
        """The iteration of each open loop, outermost first (None: no loop is open)."""
        return tuple(loop.count for loop in self._open) or None
