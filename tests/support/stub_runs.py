"""Runs of a pipeline with the stub runner, for tests of what a run leaves behind (one
in this process, or a headless ``ail-tui run`` in a fresh interpreter after some set-up),
and a look at the SQLite index they leave."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from ail_tui.engine.executor import Executor
from ail_tui.engine.run_types import RunOptions
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.registry import RunnerFactory

ROOT = Path(__file__).resolve().parents[2]


def stub_run(folder: Path, text: str, response: str) -> Path:
    """Run ``text`` (written as ``folder/p.ail.yaml``) with the stub answering
    ``response``, its log in ``folder/runs``; the log's path."""
    path = folder / "p.ail.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = check_file(path)
    assert loaded.pipeline is not None
    options = RunOptions(runner="stub", runners=RunnerFactory(response), cwd=str(folder),
                         log_dir=folder / "runs")
    executor = Executor(loaded.pipeline, options)
    executor.run()
    assert executor.log_path is not None
    return executor.log_path


def headless_after(folder: Path, set_up: str) -> subprocess.CompletedProcess[str]:
    """``ail-tui run p.ail.yaml --headless`` in ``folder`` (``AIL_HOME`` its ``home``),
    in an interpreter that first runs the Python ``set_up``."""
    script = textwrap.dedent(set_up) + textwrap.dedent("""
        import sys
        from ail_tui.cli import main
        sys.exit(main(["run", "p.ail.yaml", "--headless", "--stub-response", "ok"]))
    """)
    env = {"AIL_HOME": str(folder / "home"), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", script], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def rows(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """The rows ``sql`` selects from the SQLite database ``db``."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()
