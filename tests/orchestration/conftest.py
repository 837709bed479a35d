"""Fixtures of the orchestration tests: a private runtime folder for control sockets, an
isolated ``HOME``/``AIL_HOME``, a project folder as the working directory, runs served
in this process and real ``ail-tui`` processes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from orchestration_helpers import Project, Served
from private_runtime import private_home, private_runtime
from temporal_service import Worker, dev_server, start_worker


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private runtime folder (mode 0700), short enough for Unix socket paths (at most
    107 bytes), as ``AIL_TUI_RUNTIME_DIR``."""
    with private_runtime(monkeypatch) as folder:
        yield folder


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``HOME`` and ``AIL_HOME`` (``HOME/.ail``) of this test alone."""
    return private_home(tmp_path, monkeypatch)


@pytest.fixture
def work(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project folder, as the working directory."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def serve(runtime: Path, work: Path) -> Iterator[Callable[..., Served]]:
    """``serve(PIPELINE, script=..., interactive=...)``: a run of a fixture pipeline behind
    a control server in this process (not started yet); closed at the end."""
    made: list[Served] = []

    def make(pipeline: str, script: dict[str, Any] | None = None,
             interactive: bool = False) -> Served:
        served = Served(runtime, work, pipeline, script, interactive)
        made.append(served)
        return served

    yield make
    for served in made:
        served.close()


@pytest.fixture
def project(runtime: Path, work: Path) -> Iterator[Project]:
    """A project for real ``ail-tui`` processes; what they leave is killed at the end."""
    made = Project(work, runtime)
    yield made
    made.cleanup()


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Temporal dev server for this test session (the tests that use it share one
    xdist worker: ``xdist_group("temporal")``)."""
    with dev_server(tmp_path_factory.mktemp("temporal")) as address:
        yield address


@pytest.fixture
def temporal(temporal_address: str, project: Project,
             tmp_path: Path) -> Iterator[Callable[[], Worker]]:
    """``temporal()`` starts one more ``ail-tui worker`` on this test's own task queue
    (``project.queue``); every worker is stopped at the end."""
    project.queue = f"q-{uuid.uuid4().hex[:12]}"
    project.temporal_address = temporal_address
    project.temporal = ["--orchestration", "temporal", "--address", temporal_address,
                        "--task-queue", project.queue]
    started: list[Worker] = []

    def start() -> Worker:
        worker = start_worker(temporal_address, project.queue, tmp_path, project.env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
