"""Where live runs are found (decisions A2, A7): the private runtime folder, the notes
of this project's runs, and the stale notes of runs whose process is gone."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from ail_tui import detached_commands
from ail_tui.orchestration.live_runs import (
    LiveRun,
    UnsafeRuntimeDir,
    find_live_run,
    live_runs,
    new_note,
    note_path,
    remove_note,
    runtime_dir,
    write_note,
)


def note(run_id: str, work: Path, pid: int | None = None, started_at: float | None = None,
         cwd: Path | None = None) -> LiveRun:
    made = new_note(run_id, str(work / "p.ail.yaml"), None, detached=True,
                    cwd=str(cwd or work))
    return dataclasses.replace(made, pid=pid if pid is not None else made.pid,
                               started_at=started_at if started_at is not None
                               else made.started_at)


def dead_pid() -> int:
    """The pid of a process that ended and was reaped."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_the_runtime_folder_must_be_private(runtime: Path) -> None:
    assert runtime_dir() == runtime
    for mode in (0o750, 0o705, 0o777):
        runtime.chmod(mode)
        with pytest.raises(UnsafeRuntimeDir, match="open to other users"):
            runtime_dir()
    runtime.chmod(0o700)
    assert runtime_dir() == runtime


def test_a_link_is_not_a_runtime_folder(runtime: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    link = tmp_path / "link"
    link.symlink_to(runtime)
    monkeypatch.setenv("AIL_TUI_RUNTIME_DIR", str(link))
    with pytest.raises(UnsafeRuntimeDir, match="not a folder"):
        runtime_dir()


def test_another_users_folder_is_refused(runtime: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the folder to another user")
    os.chown(runtime, 65534, 65534)
    try:
        with pytest.raises(UnsafeRuntimeDir, match="belongs to another user"):
            runtime_dir()
    finally:
        os.chown(runtime, 0, 0)


def test_the_folder_is_made_private_when_missing(runtime: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = runtime / "made"
    monkeypatch.setenv("AIL_TUI_RUNTIME_DIR", str(fresh))
    old = os.umask(0)
    try:
        assert runtime_dir(create=True) == fresh
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700


def test_a_note_is_the_owners_alone_and_reads_back(runtime: Path, work: Path) -> None:
    mine = note("run-a", work)
    write_note(mine)
    assert stat.S_IMODE(note_path("run-a").stat().st_mode) == 0o600
    assert [p.name for p in runtime.iterdir()] == ["run-a.json"]  # no partial left
    assert live_runs() == [mine]
    assert find_live_run("run-a") == mine
    remove_note("run-a")
    assert live_runs() == []


def test_live_runs_are_this_projects_newest_first(runtime: Path, work: Path,
                                                  tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    now = time.time()
    older, newer = note("run-old", work, started_at=now - 10), note("run-new", work,
                                                                    started_at=now)
    elsewhere = note("run-elsewhere", work, cwd=other)
    for each in (older, newer, elsewhere):
        write_note(each)
    assert live_runs() == [newer, older]
    assert live_runs(other) == [elsewhere]


def test_a_note_whose_process_is_gone_is_removed(runtime: Path, work: Path) -> None:
    write_note(note("run-dead", work, pid=dead_pid()))
    (runtime / "run-dead.sock").touch()
    write_note(note("run-live", work))
    assert [r.run_id for r in live_runs()] == ["run-live"]
    assert sorted(p.name for p in runtime.iterdir()) == ["run-live.json"]


def test_a_run_whose_process_died_unreaped_is_not_live(runtime: Path, work: Path) -> None:
    """kill -9 of a detached run leaves a zombie until its new parent reaps it (a
    container's init may reap late, or never): it died, so it is not live (A2)."""
    process = subprocess.Popen(["sleep", "30"])
    try:
        write_note(note("run-zombie", work, pid=process.pid))
        process.kill()
        deadline = time.monotonic() + 5
        while Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the killed process never became a zombie"
            time.sleep(0.01)
        assert live_runs() == []
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize(("ref", "found"), [
    ("abc-1", "abc-1"), ("abd", "abd-3"), ("abc", None), ("", None), ("zzz", None)])
def test_find_by_id_or_unique_prefix(runtime: Path, work: Path, ref: str,
                                     found: str | None) -> None:
    for run_id in ("abc-1", "abc-2", "abd-3"):
        write_note(note(run_id, work))
    hit = find_live_run(ref)
    assert (hit.run_id if hit else None) == found


def test_a_note_that_is_not_one_is_ignored(runtime: Path, work: Path) -> None:
    (runtime / "junk.json").write_text("{not json")
    (runtime / "half.json").write_text('{"run_id": "half"}')
    misnamed = note("inside", work)
    write_note(misnamed)
    (runtime / "inside.json").rename(runtime / "outside.json")
    assert live_runs() == []


def test_ps_refuses_a_runtime_folder_open_to_others(
        runtime: Path, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runtime.chmod(0o755)
    try:
        assert detached_commands.cmd_ps("json") == 1
    finally:
        runtime.chmod(0o700)
    assert "open to other users" in capsys.readouterr().err


def test_ps_with_no_runtime_folder_lists_nothing(
        runtime: Path, work: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AIL_TUI_RUNTIME_DIR", str(runtime / "never-made"))
    assert detached_commands.cmd_ps("json") == 0
    assert capsys.readouterr().out == "[]\n"
