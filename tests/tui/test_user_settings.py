"""The person's settings in the dashboard: keymap, theme, default pane, and the theme
chosen kept for next time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pilot_waits import until

from ail_tui.tui import user_settings
from ail_tui.tui.app import AilApp

PIPELINE = """
    version: "1"
    pipeline:
      - id: hello
        context: {shell: "echo hi"}
    """


@pytest.mark.timeout(60)
async def test_the_settings_file_shapes_the_dashboard(
        make_app: Callable[..., AilApp], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('theme = "nord"\ndefault_pane = "events"\n\n[keymap]\n'
                      '"app.run" = "f5"\n"app.nope" = "x"\n', encoding="utf-8")
    monkeypatch.setenv("AIL_TUI_CONFIG", str(config))
    app = make_app(PIPELINE, settings=user_settings.load())
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.pipeline is not None)
        assert app.theme == "nord"
        assert app.tabs.active == "tab-events"
        assert any("app.nope" in str(n.message) and f"{config}:6" in str(n.message)
                   for n in app._notifications)
        await pilot.press("r")  # shipped key, now unbound
        await pilot.pause()
        assert app.view.run_id is None
        await pilot.press("f5")
        await until(pilot, lambda: app.view.state == "completed")
        app.theme = "textual-light"  # as the command palette does
        await until(pilot, lambda: 'theme = "textual-light"' in config.read_text())
    assert '"app.run" = "f5"' in config.read_text()  # the rest left as it was


@pytest.mark.timeout(60)
async def test_every_key_help_lists_can_be_remapped(
        make_app: Callable[..., AilApp]) -> None:
    from ail_tui.tui.screens.dialogs import HelpScreen

    app = make_app(PIPELINE)
    async with app.run_test() as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        listed = {ident for _key, _what, ident in screen.rows if ident}
        assert {"steps.name_filter_clear", "compare.next_change", "app.maximize",
                "app.summary", "history.compare"} <= listed
        assert listed <= user_settings.binding_ids()
