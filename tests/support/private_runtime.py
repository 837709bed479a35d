"""A private runtime folder for control sockets and a ``HOME`` of the test's own, as the
tests of detached and served runs want them."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def private_runtime(monkeypatch: pytest.MonkeyPatch | None = None) -> Iterator[Path]:
    """A private runtime folder (mode 0700) in /tmp, short enough for Unix socket paths
    (at most 107 bytes), removed on the way out; with ``monkeypatch``, also set as
    ``AIL_TUI_RUNTIME_DIR`` of this process."""
    folder = Path(tempfile.mkdtemp(prefix="ailrt", dir="/tmp"))
    try:
        folder.chmod(0o700)
        if monkeypatch is not None:
            monkeypatch.setenv("AIL_TUI_RUNTIME_DIR", str(folder))
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def private_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``tmp_path/project``, made the working directory, with a private
    ``HOME`` and ``AIL_HOME`` (:func:`private_home`)."""
    private_home(tmp_path, monkeypatch)
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path/home``, made, as ``HOME``, with ``HOME/.ail`` as ``AIL_HOME``."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setenv("AIL_HOME", str(folder / ".ail"))
    return folder
