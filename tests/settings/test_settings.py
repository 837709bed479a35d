"""The person's settings file: what applies, and what is reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ail_tui.settings import Settings, config_path, load_settings, save_theme

BINDINGS = {"app.run", "app.quit", "app.cancel_step"}
THEMES = {"textual-dark", "nord"}


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(BINDINGS, THEMES, path)


def test_no_file_is_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(BINDINGS, THEMES, tmp_path / "none.toml")
    assert (settings.theme, settings.default_pane, settings.keymap, settings.problems) == (
        None, None, {}, ())


def test_good_settings_apply(tmp_path: Path) -> None:
    settings = load(tmp_path, 'theme = "nord"\ndefault_pane = "output"\n\n[keymap]\n'
                              '"app.run" = "ctrl+r"\n"app.cancel_step" = "x, delete"\n')
    assert settings.theme == "nord"
    assert settings.default_pane == "output"
    assert settings.keymap == {"app.run": "ctrl+r", "app.cancel_step": "x,delete"}
    assert settings.problems == ()


@pytest.mark.parametrize(("text", "line", "words"), [
    ('theme = "nord"\ntheme_x = 1\n', 2, "not a setting"),
    ('theme = "pink"\n', 1, "not a theme"),
    ('\ndefault_pane = "side"\n', 2, "not a pane"),
    ('[keymap]\n"app.run" = "r"\n"app.rn" = "x"\n', 3, "no binding has the id 'app.rn'"),
    ('[keymap]\n\n"app.quit" = "ctrl r"\n', 3, "is not a key"),
    ('[keymap]\n"app.quit" = 5\n', 2, "is not a key"),
    ('keymap = "x"\n', 1, "must be a table"),
])
def test_a_bad_setting_is_reported_with_its_line_and_left_out(
        tmp_path: Path, text: str, line: int, words: str) -> None:
    settings = load(tmp_path, text)
    [problem] = settings.problems
    assert problem.startswith(f"{tmp_path / 'config.toml'}:{line}: ")
    assert words in problem
    assert "app.rn" not in settings.keymap and settings.theme in (None, "nord")


def test_the_good_settings_beside_a_bad_one_still_apply(tmp_path: Path) -> None:
    settings = load(tmp_path, '[keymap]\n"app.rn" = "x"\n"app.run" = "ctrl+r"\n')
    assert settings.keymap == {"app.run": "ctrl+r"}
    assert len(settings.problems) == 1


def test_a_file_that_is_not_toml_says_where(tmp_path: Path) -> None:
    settings = load(tmp_path, 'theme = "nord"\n[keymap\n')
    [problem] = settings.problems
    assert "not TOML" in problem and "line 2" in problem


def test_the_chosen_theme_is_kept_and_the_rest_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    save_theme("nord", path)
    assert load_settings(BINDINGS, THEMES, path).theme == "nord"
    path.write_text('# mine\ndefault_pane = "events"\n[keymap]\n"app.run" = "f5"\n',
                    encoding="utf-8")
    save_theme("textual-dark", path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith('# mine\ndefault_pane = "events"\ntheme = "textual-dark"\n[keymap]')
    settings = load_settings(BINDINGS, THEMES, path)
    assert (settings.theme, settings.default_pane, settings.keymap) == (
        "textual-dark", "events", {"app.run": "f5"})
    save_theme("nord", path)
    assert path.read_text(encoding="utf-8").count("theme =") == 1


def test_where_the_file_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AIL_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "ail-tui" / "config.toml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_path() == tmp_path / "home" / ".config" / "ail-tui" / "config.toml"
    monkeypatch.setenv("AIL_TUI_CONFIG", str(tmp_path / "mine.toml"))
    assert config_path() == tmp_path / "mine.toml"


def test_the_effective_settings_read_back(tmp_path: Path) -> None:
    settings = load(tmp_path, 'theme = "nord"\n[keymap]\n"app.run" = "f5"\n"app.x" = "y"\n')
    text = settings.toml()
    again = load(tmp_path, text)
    assert (again.theme, again.keymap) == ("nord", {"app.run": "f5"})
    assert "# not used:" in text and "app.x" in text
