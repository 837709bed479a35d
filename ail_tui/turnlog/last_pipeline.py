"""The project's last-used pipeline: ``<ail home>/projects/<hash>/last_pipeline``, the
first place discovery looks (brief §1 "Discovery", :mod:`ail_tui.pipeline.discovery`)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ail_tui.pipeline.discovery import LAST_PIPELINE


def remember_pipeline(project_dir: Path, pipeline: Path) -> bool:
    """Point ``project_dir``'s ``last_pipeline`` at ``pipeline``: its absolute path and a
    newline, replacing the file whole (a temporary file renamed over it), so a reader
    never sees half a path; left as it is when it says so already. False, with nothing
    changed, when it could not be written."""
    target = os.fsencode(os.path.abspath(pipeline)) + b"\n"
    pointer = project_dir / LAST_PIPELINE
    with contextlib.suppress(OSError):
        if pointer.read_bytes() == target:
            return True
    try:
        project_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=project_dir, prefix=f".{LAST_PIPELINE}.")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(target)
            os.replace(temporary, pointer)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError:
        return False
    return True
