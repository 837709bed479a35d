"""Where turn logs live: ``$AIL_HOME`` (default ``~/.ail``) ``/projects/<hash>/runs/``,
and the project's SQLite index ``ail.db`` beside them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def ail_home() -> Path:
    """The root of ail's state: ``$AIL_HOME``, else ``$HOME/.ail`` (decisions F2)."""
    override = os.environ.get("AIL_HOME")
    return Path(override) if override else Path.home() / ".ail"


def project_hash(cwd: str | os.PathLike[str] | None = None) -> str:
    """Lowercase hex SHA-1 of the canonical working directory (brief §9)."""
    real = os.path.realpath(os.fspath(cwd) if cwd is not None else os.getcwd())
    text = real.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def runs_dir(cwd: str | os.PathLike[str] | None = None) -> Path:
    """The directory holding this project's ``<run_id>.jsonl`` files."""
    return ail_home() / "projects" / project_hash(cwd) / "runs"


def project_db(cwd: str | os.PathLike[str] | None = None) -> Path:
    """The project's SQLite index ``ail.db``, beside ``runs/`` (brief §9)."""
    return runs_dir(cwd).parent / "ail.db"


def db_beside(log: Path) -> Path | None:
    """The ``ail.db`` of the project a run's log belongs to: beside the ``runs`` folder
    holding it; None for a log kept anywhere else (no index goes with it)."""
    return log.parent.parent / "ail.db" if log.parent.name == "runs" else None
