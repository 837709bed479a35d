"""Which run controls can act now. The footer shows only those: the app's
``check_action`` asks :meth:`RunControls.shown` (Textual hides a binding whose check
returns False), and the main screen calls :meth:`RunControls.changed` at each refresh
to redraw the footer when the answer changed.

- ``r`` needs a pipeline file (``ail-tui --log FILE`` shows a log only; ``r`` then says
  so, through the app's fallback binding);
- ``c``, ``x`` and ``p`` need a live run that is running (not a replay, not a finished
  run);
- ``g`` needs a question that waits for an answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp

NEEDS_PIPELINE = frozenset({"run"})
NEEDS_LIVE_RUN = frozenset({"cancel_run", "cancel_step", "pause"})
NEEDS_QUESTION = frozenset({"answer_gate"})


class RunControls:
    """What the run controls of the dashboard ``app`` can do now."""

    def __init__(self, app: AilApp) -> None:
        self.app = app
        self._last: tuple[bool, bool, bool] | None = None

    def live(self) -> bool:
        """Whether a live run (this dashboard's or an attached one) is running."""
        app = self.app
        return app.current_run is not None and app.view.running and not app.replaying

    def shown(self, action: str) -> bool:
        """Whether the app's ``action`` can act now (False: hidden from the footer, and
        its key does nothing)."""
        app = self.app
        if action in NEEDS_PIPELINE:
            return app.pipeline_path is not None
        if action in NEEDS_LIVE_RUN:
            return self.live()
        if action in NEEDS_QUESTION:
            return self.live() and bool(app.view.questions)
        return True

    def changed(self) -> bool:
        """Whether what the controls can do changed since the last call."""
        app = self.app
        state = (app.pipeline_path is not None, self.live(), bool(app.view.questions))
        if state == self._last:
            return False
        self._last = state
        return True
