"""``summary_on_end`` in the settings file: whether the summary opens on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from ail_tui.settings import load_settings


@pytest.mark.parametrize("text,expected", [("", True), ("summary_on_end = false\n", False),
                                           ("summary_on_end = true\n", True)])
def test_the_summary_opens_on_its_own_unless_told_not_to(
        tmp_path: Path, text: str, expected: bool) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(set(), set(), path)
    assert settings.summary_on_end is expected and settings.problems == ()
    again = path.with_name("again.toml")
    again.write_text(settings.toml(), encoding="utf-8")
    assert load_settings(set(), set(), again).summary_on_end is expected


def test_a_summary_setting_that_is_not_a_boolean_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\nsummary_on_end = "no"\n', encoding="utf-8")
    settings = load_settings(set(), {"nord"}, path)
    assert settings.summary_on_end is True
    assert settings.problems == (f"{path}:2: summary_on_end: 'no' is not true or false",)
