"""list_runs (newest first, cheap summaries) and find_run (id, prefix, path)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ail_tui.turnlog.paths import runs_dir
from ail_tui.turnlog.store import find_run, list_runs

FIXED = {"cost_usd": None, "exit_code": None, "input_tokens": 0, "modified": None,
         "output_tokens": 0, "prompt": "", "response": None, "runner_session_id": None,
         "stderr": None, "stdout": None, "thinking": None, "tool_events": []}


def write(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n"
                            for r in records), encoding="utf-8")
    return path


def ours(day: int, status: str | None, *entries: dict) -> list[dict]:
    at = f"2026-04-{day:02d}T10:00:00.000Z"
    records = [{"at": at, "pipeline_source": f"/w/{day}.ail.yaml", "project_hash": "h",
                "type": "run_started"}, *entries]
    if status is not None:
        records.append({"at": f"2026-04-{day:02d}T10:00:04.000Z", "status": status,
                        "type": "run_finished"})
    return records


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    work.mkdir()
    return work


def test_list_runs_newest_first_with_summaries(project: Path) -> None:
    directory = runs_dir(project)
    write(directory / "aaaa1111-0000.jsonl", ours(10, "completed"))
    write(directory / "cccc3333-0000.jsonl", ours(14, "aborted",
          {**FIXED, "step_id": "a", "cost_usd": 0.25},
          {"at": "2026-04-14T10:00:01.000Z", "prompt": "b", "step_id": "b",
           "type": "step_started"}))
    rust = write(directory / "bbbb2222-0000.jsonl", [
        {"pipeline_source": "/w/rust.ail.yaml", "project_hash": "h", "type": "run_started"},
        {**FIXED, "step_id": "only", "cost_usd": 0.5}])
    mtime = 1_776_081_600.0  # 2026-04-13T12:00:00Z: between the two runs of ours
    os.utime(rust, (mtime, mtime))
    (directory / "notes.txt").write_text("not a run")
    (directory / "dir.jsonl").mkdir()

    runs = list_runs(project)
    assert [r.run_id for r in runs] == ["cccc3333-0000", "bbbb2222-0000", "aaaa1111-0000"]
    newest, rust_run, oldest = runs
    assert newest.status == "aborted" and newest.step_counts == {"done": 1, "failed": 1}
    assert newest.total_cost == pytest.approx(0.25) and newest.duration == pytest.approx(4)
    assert newest.pipeline_source == "/w/14.ail.yaml" and newest.step_total == 2
    assert rust_run.status == "completed" and rust_run.started_at == mtime
    assert rust_run.duration is None and rust_run.total_cost == pytest.approx(0.5)
    assert oldest.status == "completed" and oldest.step_counts == {}
    assert newest.path == directory / "cccc3333-0000.jsonl"


def test_list_runs_of_a_project_without_runs(project: Path) -> None:
    assert list_runs(project) == []
    assert find_run(None, project) is None
    assert find_run("abc", project) is None


def test_find_run_by_id_prefix_and_path(project: Path, tmp_path: Path) -> None:
    directory = runs_dir(project)
    one = write(directory / "abcd1111-0000.jsonl", ours(10, "completed"))
    two = write(directory / "abcd2222-0000.jsonl", ours(11, "completed"))
    elsewhere = write(tmp_path / "copy.jsonl", ours(1, None))

    assert find_run("abcd1111-0000", project) == one
    assert find_run("abcd2", project) == two
    assert find_run("abcd", project) is None  # ambiguous
    assert find_run("zzzz", project) is None
    assert find_run("", project) is None
    assert find_run("[a-z]*", project) is None  # no globbing
    assert find_run(None, project) == two  # the newest
    assert find_run(str(elsewhere), project) == elsewhere
    assert find_run(str(tmp_path / "missing.jsonl"), project) is None
    assert find_run("abcd1111-0000.jsonl", project) == one  # a run id with its suffix
