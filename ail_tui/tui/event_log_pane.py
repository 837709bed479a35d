"""The Events pane: one line per event (a step's streamed text as one line), filtered.

Lines are kept in the run session; the pane is written to only while it is shown (every
write re-lays out the screen) and rebuilt from the kept lines when it is shown again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Log

from ail_tui.engine import events as ev
from ail_tui.tui.event_lines import event_line, stream_line

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp

EVENT_LOG_LINES = 20_000
ENDS_A_STREAM = (ev.StepCompleted, ev.StepFailed, ev.StepCancelled)


class EventLogPane:
    """The event lines of the app's run session, and the Log widget that shows them."""

    def __init__(self, app: AilApp, log: Log) -> None:
        self.app = app
        self.log = log
        self.filter = ""
        self.stale = False
        self._new: list[str] = []

    def add(self, event: ev.Event, origin: float | None) -> None:
        """The line(s) of one event; streamed text is counted until its step's end."""
        session = self.app.session
        if isinstance(event, ev.RunnerEvent) and event.event.get("type") == "stream_delta":
            counts = session.streamed.setdefault(event.step_id, [0, 0, event.at])
            counts[0] += int(event.event.get("chunks", 1))
            counts[1] += len(str(event.event.get("text", "")))
            return
        step = getattr(event, "step_id", None)
        if isinstance(step, str) and step in session.streamed and isinstance(
                event, ENDS_A_STREAM):
            self._new.append(self._stream_line(step, origin))
        self._new.append(event_line(event, origin))

    def end_streams(self, origin: float | None) -> None:
        """The run ended: the streams still counted go before its last line."""
        streams = [self._stream_line(step, origin) for step in list(self.app.session.streamed)]
        self._new[-1:-1] = streams

    def commit(self) -> None:
        """Keep the lines added since the last commit (the newest EVENT_LOG_LINES)."""
        session = self.app.session
        session.event_lines.extend(self._new)
        del session.event_lines[:-EVENT_LOG_LINES]
        session.unwritten.extend(self._new)
        self._new = []

    def _stream_line(self, step: str, origin: float | None) -> str:
        chunks, chars, first = self.app.session.streamed.pop(step)
        return stream_line(step, int(chunks), int(chars), first, origin)

    def write_pending(self) -> None:
        """Write the kept lines not yet on the pane (only while it is shown)."""
        session = self.app.session
        lines, session.unwritten = session.unwritten, []
        self._write(lines)

    def _write(self, lines: list[str]) -> None:
        if self.app.tabs.active != "tab-events":
            self.stale = True
            return
        wanted = [line for line in lines if self.filter in line] if self.filter else lines
        if wanted:
            self.log.write_lines(wanted)

    def rebuild(self) -> None:
        """Write every kept line again (after a filter change, or when shown stale)."""
        self.stale = False
        self.app.session.unwritten = []
        self.log.clear()
        self._write(self.app.session.event_lines)

    def set_filter(self, text: str) -> None:
        """Show only the lines containing ``text`` (all when empty)."""
        self.filter = text.strip()
        self.rebuild()

    def clear(self) -> None:
        """A new session: nothing on the pane."""
        self.log.clear()
        self.stale = False
        self._new = []
