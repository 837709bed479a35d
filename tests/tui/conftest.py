"""Fixtures for dashboard tests: an app on a pipeline in a scratch folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ail_tui.runners.registry import RunnerFactory
from ail_tui.runners.stub import StubScript
from ail_tui.tui.app import AilApp


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., AilApp]:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)

    def build(text: str, *, script: dict | None = None, name: str = "p.ail.yaml",
              **options: object) -> AilApp:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        runners = RunnerFactory(stub_script=StubScript.model_validate(script or {}))
        return AilApp(path, runner="stub", runners=runners, **options)

    return build
