"""Where a live run can be reached: its control socket and a note of what it is.

Every run that serves a control channel has two files in this user's runtime folder:
``<run_id>.sock`` and ``<run_id>.json``. The folder is ``$XDG_RUNTIME_DIR/ail-tui``, else
(or when that is too deep for a socket's path) ``/tmp/ail-tui-<uid>``;
``AIL_TUI_RUNTIME_DIR`` overrides. It is this user's alone (mode 0700, checked on every
use), so only the owner can reach a run (decisions A7); the files stay out of the turn
logs' folder, out of Rust's way and out of ``logs``. A note whose process is gone is
stale and is removed by the next listing.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ail_tui.processes.alive import process_alive
from ail_tui.turnlog.paths import runs_dir


class UnsafeRuntimeDir(OSError):
    """The runtime folder is not this user's alone: no control channel is served there."""


MAX_SOCKET_PATH = 107
"""The longest path of a Unix socket (``sun_path`` is 108 bytes on Linux, with its NUL)."""
SOCKET_NAME = len("/00000000-0000-0000-0000-000000000000.sock")


def _fits(folder: Path) -> bool:
    return len(os.fsencode(folder)) + SOCKET_NAME <= MAX_SOCKET_PATH


def runtime_dir(create: bool = False) -> Path:
    """This user's folder for control sockets; checked to be private (made if ``create``).

    Raises :class:`UnsafeRuntimeDir` when it is someone else's, a link, open to others, or
    too deep for a socket.
    """
    override = os.environ.get("AIL_TUI_RUNTIME_DIR")
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if override:
        folder = Path(override)
    elif xdg and _fits(Path(xdg) / "ail-tui"):
        folder = Path(xdg) / "ail-tui"
    else:  # a Unix socket's path has a short limit: a deep XDG_RUNTIME_DIR cannot hold one
        folder = Path(tempfile.gettempdir()) / f"ail-tui-{os.geteuid()}"
    if create:
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700, parents=False)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeRuntimeDir(f"{folder} is not a folder")
    if info.st_uid != os.geteuid():
        raise UnsafeRuntimeDir(f"{folder} belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o077:
        raise UnsafeRuntimeDir(f"{folder} is open to other users "
                               f"(mode {stat.S_IMODE(info.st_mode):o}; it must be 700)")
    if not _fits(folder):
        raise UnsafeRuntimeDir(f"{folder} is too long a path for a Unix socket "
                               f"(at most {MAX_SOCKET_PATH - SOCKET_NAME} characters)")
    return folder


@dataclass(frozen=True)
class LiveRun:
    """What a live run's note says: enough for ``ps`` and to reach it."""

    run_id: str
    pid: int
    pipeline_source: str | None
    started_at: float
    log_path: str | None
    runs_dir: str
    """The project's turn-log folder: ``ps`` lists the runs of the project it is run in."""
    detached: bool
    temporal: dict[str, str] | None = None
    """The Temporal service the run executes on (``address``, ``namespace``,
    ``task_queue``): its note outlives its process, whose run goes on without it."""

    @property
    def socket_path(self) -> Path:
        """Where its control channel listens."""
        return socket_path(self.run_id)

    @property
    def alive(self) -> bool:
        """Whether its process still exists."""
        return process_alive(self.pid)


def socket_path(run_id: str) -> Path:
    """The control socket of run ``run_id``."""
    return runtime_dir() / f"{run_id}.sock"


def note_path(run_id: str) -> Path:
    """The note of run ``run_id``."""
    return runtime_dir() / f"{run_id}.json"


def write_note(run: LiveRun) -> None:
    """Publish ``run``'s note (atomically: a reader sees all of it or none)."""
    folder = runtime_dir(create=True)
    target = folder / f"{run.run_id}.json"
    partial = folder / f".{run.run_id}.json.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(run), out)
    os.replace(partial, target)


def remove_note(run_id: str) -> None:
    """Take down run ``run_id``'s note and socket (whatever is left of them), and its
    error file when empty."""
    with contextlib.suppress(OSError):
        folder = runtime_dir()
        for name in (f"{run_id}.json", f"{run_id}.sock"):
            with contextlib.suppress(FileNotFoundError):
                (folder / name).unlink()
        errors = folder / f"{run_id}.stderr"
        if errors.exists() and errors.stat().st_size == 0:
            errors.unlink()


def _read_note(path: Path) -> LiveRun | None:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return LiveRun(run_id=str(data["run_id"]), pid=int(data["pid"]),
                       pipeline_source=data.get("pipeline_source"),
                       started_at=float(data["started_at"]), log_path=data.get("log_path"),
                       runs_dir=str(data["runs_dir"]), detached=bool(data["detached"]),
                       temporal=_strings(data.get("temporal")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _strings(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    return {str(key): str(item) for key, item in value.items()}


def unfollowed_runs(cwd: str | os.PathLike[str] | None = None) -> list[LiveRun]:
    """The Temporal runs of the project at ``cwd`` whose process here died: the run goes
    on on its workers, and ``attach`` follows it again."""
    return _notes(cwd, unfollowed=True)


def live_runs(cwd: str | os.PathLike[str] | None = None) -> list[LiveRun]:
    """The live runs of the project at ``cwd``, newest first; stale notes are removed."""
    return _notes(cwd, unfollowed=False)


def _notes(cwd: str | os.PathLike[str] | None, unfollowed: bool) -> list[LiveRun]:
    try:
        folder = runtime_dir()
    except FileNotFoundError:
        return []
    project = str(runs_dir(cwd))
    found: list[LiveRun] = []
    for path in folder.glob("*.json"):
        run = _read_note(path)
        if run is None or run.run_id != path.stem:
            continue
        alive = run.alive
        if not alive and run.temporal is None:
            remove_note(run.run_id)
            continue
        if run.runs_dir == project and alive != unfollowed:
            found.append(run)
    found.sort(key=lambda r: (r.started_at, r.run_id), reverse=True)
    return found


def find_live_run(ref: str, cwd: str | os.PathLike[str] | None = None) -> LiveRun | None:
    """The live run of this project with id ``ref``, or the one whose id starts with it."""
    runs = live_runs(cwd)
    exact = [r for r in runs if r.run_id == ref]
    if exact:
        return exact[0]
    matches = [r for r in runs if ref and r.run_id.startswith(ref)]
    return matches[0] if len(matches) == 1 else None


def new_note(run_id: str, pipeline_source: str | None, log_path: Path | None,
             detached: bool, cwd: str | None = None,
             temporal: dict[str, str] | None = None) -> LiveRun:
    """The note of a run of this process starting now (``temporal``: where it runs)."""
    return LiveRun(run_id=run_id, pid=os.getpid(), pipeline_source=pipeline_source,
                   started_at=time.time(), log_path=str(log_path) if log_path else None,
                   runs_dir=str(runs_dir(cwd)), detached=detached, temporal=temporal)
