"""A run started from a pipeline file makes it the project's last-used pipeline
(``<ail home>/projects/<hash>/last_pipeline``), which discovery then picks first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from private_runtime import private_project, private_runtime
from waiting import wait_for

from ail_tui.cli import main
from ail_tui.engine.local_run import LocalRun
from ail_tui.engine.run_types import RunOptions
from ail_tui.pipeline.discovery import discover_pipeline
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.registry import RunnerFactory
from ail_tui.turnlog.last_pipeline import remember_pipeline
from ail_tui.turnlog.paths import runs_dir

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = 'version: "0.1"\npipeline:\n  - id: {name}\n    prompt: "from {name}"\n'
PARENT = """\
version: "0.1"
pipeline:
  - id: outer
    prompt: "outer"
  - id: nested
    pipeline: ./child.ail.yaml
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, with a private HOME and AIL_HOME."""
    return private_project(tmp_path, monkeypatch)


def pipeline_at(path: Path, name: str, text: str = PIPELINE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.format(name=name), encoding="utf-8")
    return path


def pointer() -> Path:
    return runs_dir().parent / "last_pipeline"


def test_a_headless_run_becomes_the_one_discovery_picks(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pipeline_at(project / ".ail" / "starter" / "default.yaml", "starter")
    used = pipeline_at(project / "review.ail.yaml", "review")

    assert main(["run", "review.ail.yaml", "--headless", "--stub-response", "ok"]) == 0
    assert pointer().read_bytes() == os.fsencode(used) + b"\n"
    capsys.readouterr()
    assert main(["run", "--dry-run", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["pipeline"] == str(used)


def test_a_run_in_this_process_records_its_pipeline_not_its_sub_pipelines(
        project: Path) -> None:
    """The dashboard's runs (and a detached run's process) go through LocalRun."""
    pipeline_at(project / "child.ail.yaml", "child")
    parent = pipeline_at(project / "parent.ail.yaml", "parent", PARENT)
    loaded = check_file(parent)
    assert loaded.pipeline is not None
    run = LocalRun(loaded.pipeline, RunOptions(runner="stub", runners=RunnerFactory("ok"),
                                               cwd=str(project))).start()
    result = run.wait(60)
    assert result is not None and result.succeeded
    assert pointer().read_text(encoding="utf-8") == f"{parent}\n"
    found = discover_pipeline(project, Path.home(), pointer().parent)
    assert found.path == parent


def test_a_detached_run_records_its_pipeline(project: Path) -> None:
    used = pipeline_at(project / "detached.ail.yaml", "detached")
    with private_runtime() as runtime:
        env = {**os.environ, "AIL_TUI_RUNTIME_DIR": str(runtime), "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "ail_tui", "run", "detached.ail.yaml",
                               "--detach", "--stub-response", "ok"], cwd=project, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        log = runs_dir() / f"{done.stdout.strip()}.jsonl"
        wait_for(lambda: log.is_file() and '"run_finished"' in log.read_text("utf-8"), 30,
                 "the detached run to end")
        wait_for(lambda: not any(runtime.iterdir()), 30, "the run's process to be gone")
    assert pointer().read_text(encoding="utf-8") == f"{used}\n"


def test_a_run_logged_elsewhere_leaves_the_project_pointer_alone(
        project: Path, tmp_path: Path) -> None:
    used = pipeline_at(project / "p.ail.yaml", "p")
    loaded = check_file(used)
    assert loaded.pipeline is not None
    run = LocalRun(loaded.pipeline, RunOptions(runner="stub", runners=RunnerFactory("ok"),
                                               cwd=str(project),
                                               log_dir=tmp_path / "scratch" / "runs"))
    result = run.start().wait(60)
    assert result is not None and result.succeeded
    assert not pointer().exists()


def test_the_pointer_is_replaced_whole(project: Path, tmp_path: Path) -> None:
    first = pipeline_at(project / "a-much-longer-name-than-the-next.ail.yaml", "a")
    second = pipeline_at(project / "b.ail.yaml", "b")
    state = tmp_path / "state"
    assert remember_pipeline(state, first) and remember_pipeline(state, second)
    assert sorted(p.name for p in state.iterdir()) == ["last_pipeline"]  # no temporary left
    assert (state / "last_pipeline").read_text(encoding="utf-8") == f"{second}\n"
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    assert remember_pipeline(blocked / "state", first) is False  # cannot be made: no raise


@pytest.mark.parametrize("written", ["{path}", "{path}\n", "{path}\r\n", "  {path}  \n\n",
                                     "{path}\nsomething else\n"])
def test_discovery_reads_the_pointer_as_either_ail_writes_it(
        project: Path, written: str) -> None:
    used = pipeline_at(project / "elsewhere" / "last.ail.yaml", "last")
    pointer().parent.mkdir(parents=True)
    pointer().write_text(written.format(path=used), encoding="utf-8")
    assert discover_pipeline(project, Path.home(), pointer().parent).path == used
