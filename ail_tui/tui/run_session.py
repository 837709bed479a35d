"""The run on screen, live or replayed: everything the dashboard keeps about it.

A new run or replay gets a new :class:`RunSession`, replacing the last one whole, so
nothing of one run (its queued events, its event-log lines, its subscription) can leak
into the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ail_tui.engine.run_handle import RunHandle
from ail_tui.tui.event_sink import EventSink
from ail_tui.tui.run_view import RunView


def nothing() -> None:
    """Do nothing (the default of the session's callbacks)."""
    return None


@dataclass
class RunSession:
    """One run as the dashboard shows it."""

    view: RunView
    run: RunHandle | None = None
    """The run (None: no run yet); a replay's is finished."""
    replaying: bool = False
    attached: bool = False
    """The run was started by another process: leaving the dashboard leaves it running."""
    detachable: bool = False
    """The run lives in a process of its own: quitting asks to detach or cancel (A6)."""
    release: Callable[[], object] = nothing
    """Leave a run this dashboard started running after it quits."""
    disconnect: Callable[[], None] = nothing
    """Close the connection to a run of another process."""
    wait_gone: Callable[[float], object] = lambda seconds: None
    """After a run of this dashboard's ended: wait (at most the seconds given) until its
    own process is done with it (its step processes ended)."""
    generation: int = 0
    """The pipeline generation the run started from (0: none)."""
    log: Path | None = None
    """The turn log of a run this dashboard started (it outlives the view: a save shows
    the new plan, and ``--watch-run`` and ``F`` still go on from the run)."""
    events: EventSink = field(default_factory=EventSink)
    """Events from the run's threads, taken by the dashboard at each tick."""
    event_lines: list[str] = field(default_factory=list)
    unwritten: list[str] = field(default_factory=list)
    """Event-log lines not yet written to the pane."""
    streamed: dict[str, list[float]] = field(default_factory=dict)
    """Per step: streamed chunks, characters, and when the first came."""
    unsubscribe: Callable[[], None] = nothing

    def follow(self, run: RunHandle) -> None:
        """Show ``run``: its events, from the first, go to :attr:`events`."""
        self.run = run
        self.unsubscribe = run.subscribe(self.events.put)

    def close(self, keep_connection: bool = False) -> None:
        """Stop taking the run's events (the run itself goes on); close the connection to
        a run of another process unless ``keep_connection``."""
        self.unsubscribe()
        self.unsubscribe = nothing
        if not keep_connection:
            self.disconnect()
        self.disconnect = nothing
