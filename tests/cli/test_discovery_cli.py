"""`validate`, `run` and the dashboard without PIPELINE: the discovered pipeline is used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from private_runtime import private_project

from ail_tui.cli import main
from ail_tui.tui import app
from ail_tui.turnlog.paths import runs_dir

PIPELINE = 'version: "0.1"\npipeline:\n  - id: {name}\n    prompt: "from {name}"\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, with a private HOME and AIL_HOME."""
    return private_project(tmp_path, monkeypatch)


def pipeline_at(path: Path, name: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PIPELINE.format(name=name), encoding="utf-8")
    return path


def test_validate_uses_the_marked_default(project: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    pipeline_at(project / ".ail" / "a" / "default.yaml", "a")
    pipeline_at(project / ".ail" / "b" / "review.ail.yaml", "b")
    (project / ".ail" / "default").write_text("b/review.ail.yaml\n", encoding="utf-8")

    assert main(["validate", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True
    assert main(["validate"]) == 0
    captured = capsys.readouterr()
    assert (captured.out + captured.err).strip().endswith(".ail/b/review.ail.yaml: valid")


def test_run_uses_the_single_project_pipeline(project: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    found = pipeline_at(project / ".ail" / "starter" / "default.yaml", "starter")

    assert main(["run", "--dry-run", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["pipeline"] == str(found)
    assert [s["prompt"] for s in plan["steps"]] == ["from starter"]


def test_rust_ails_last_used_pipeline_comes_first(project: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    last = pipeline_at(project / "elsewhere" / "last.ail.yaml", "last")
    pipeline_at(Path.home() / ".config" / "ail" / "default.yaml", "user")
    pointer = runs_dir().parent / "last_pipeline"
    pointer.parent.mkdir(parents=True)
    pointer.write_text(str(last), encoding="utf-8")

    assert main(["run", "--dry-run", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["pipeline"] == str(last)


def test_nothing_found_says_where_it_looked(project: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["validate"], ["run", "--headless"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("ail-tui: no pipeline found; looked at ")
        assert str(runs_dir().parent / "last_pipeline") in err
        assert str(project / ".ail" / "default") in err
        assert str(Path.home() / ".config" / "ail" / "default.yaml") in err


def test_several_candidates_are_listed_not_guessed(project: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    first = pipeline_at(project / ".ail" / "a" / "default.yaml", "a")
    second = pipeline_at(project / ".ail" / "b" / "other.yaml", "b")

    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert "several pipelines in .ail/" in err
    assert f"  {first}\n" in err and f"  {second}\n" in err


def test_dashboard_without_arguments_opens_the_discovered_pipeline(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = pipeline_at(Path.home() / ".config" / "ail" / "default.yaml", "user")
    opened: list[str | None] = []

    def fake_dashboard(path: str | None, **options: object) -> int:
        opened.append(path)
        return 0

    monkeypatch.setattr(app, "run_dashboard", fake_dashboard)

    assert main([]) == 0
    assert main(["--prompt", "hello"]) == 0
    assert opened == [str(found), str(found)]


def test_dashboard_without_a_pipeline_prints_help_and_where_it_looked(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    captured = capsys.readouterr()
    assert "usage: ail-tui" in captured.out
    assert "no pipeline found; looked at " in captured.err

    assert main(["--prompt", "hello"]) == 2
    err = capsys.readouterr().err
    assert "no pipeline found; looked at " in err
    assert "give a pipeline file (or --log FILE)" in err
