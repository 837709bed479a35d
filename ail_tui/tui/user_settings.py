"""The person's settings applied to the dashboard: keymap, theme, default pane.

Every binding with an id can be given other keys (Textual's keymap); the theme chosen
in the command palette is kept for next time. What the file says that cannot be used is
shown once, with its line (see :mod:`ail_tui.settings`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.theme import BUILTIN_THEMES

from ail_tui.settings import Settings, load_settings, save_theme
from ail_tui.tui.screens import dialogs
from ail_tui.tui.screens.compare import CompareScreen
from ail_tui.tui.screens.export_dialog import ExportDialog
from ail_tui.tui.screens.history import HistoryScreen
from ail_tui.tui.screens.main import MainScreen
from ail_tui.tui.screens.summary import SummaryScreen
from ail_tui.tui.widgets.output_view import OutputView
from ail_tui.tui.widgets.step_name_filter import StepNameFilter
from ail_tui.tui.widgets.steps_table import StepsTable

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp

OWNERS = (MainScreen, StepsTable, OutputView, HistoryScreen, dialogs.GateDialog,
          dialogs.PermissionDialog, dialogs.ModifyDialog, dialogs.PromptDialog,
          dialogs.LeaveDialog, dialogs.HelpScreen, SummaryScreen, ExportDialog,
          CompareScreen, StepNameFilter)
"""Everything in the dashboard that declares bindings."""


def binding_ids() -> set[str]:
    """The id of every binding a keymap may change."""
    return {binding.id for owner in OWNERS for binding in owner.BINDINGS
            if isinstance(binding, Binding) and binding.id}


def load() -> Settings:
    """The settings file, checked against this dashboard's bindings and themes."""
    return load_settings(binding_ids(), set(BUILTIN_THEMES))


def apply(app: AilApp, settings: Settings) -> None:
    """Use ``settings`` in ``app`` (mounted); say what could not be used."""
    if settings.keymap:
        app.set_keymap(settings.keymap)
    if settings.theme:
        app.theme = settings.theme
    if settings.default_pane:
        app.tabs.active = f"tab-{settings.default_pane}"
    if settings.problems:
        app.notify("\n".join(settings.problems), title="settings not used",
                   severity="warning", timeout=15)
    app.watch(app, "theme", lambda theme: _keep(app, theme), init=False)


def _keep(app: AilApp, theme: str) -> None:
    """The theme chosen is kept in the settings file (a failure is said, not raised)."""
    try:
        save_theme(theme)
    except OSError as error:
        app.notify(f"Could not keep the theme: {error}", severity="warning")
