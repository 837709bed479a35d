"""The pipeline on disk: validated off the UI thread at every save, the verdict posted back.

:class:`PipelineWatcher` watches the pipeline file and every file it uses (prompt files,
sub-pipelines) with one exclusive async worker on ``watchfiles``; a change, a deletion or
a recreation starts a validation on a worker thread, which posts
:class:`~ail_tui.tui.messages.PipelineChecked`. A modification-time backstop catches
events the watcher missed. Runner checks run the same way and post
:class:`~ail_tui.tui.messages.RunnersChecked`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from watchfiles import awatch

from ail_tui.pipeline.loader import Pipeline
from ail_tui.pipeline.validation import check_file
from ail_tui.runners.availability import check_runner, needed_runners
from ail_tui.runners.registry import session_default
from ail_tui.tui.messages import PipelineChecked, RunnersChecked

if TYPE_CHECKING:
    from ail_tui.tui.app import AilApp


def _stamps(files: set[Path]) -> dict[Path, float | None]:
    out: dict[Path, float | None] = {}
    for path in files:
        try:
            out[Path(path)] = Path(path).stat().st_mtime_ns
        except OSError:
            out[Path(path)] = None
    return out


def _digests(files: set[Path]) -> dict[Path, bytes | None]:
    """Each file's content digest (None: unreadable): a save that changed nothing, or a
    change already validated, is known by it even where modification times are coarse."""
    out: dict[Path, bytes | None] = {}
    for path in files:
        try:
            out[Path(path)] = hashlib.blake2b(Path(path).read_bytes(), digest_size=16).digest()
        except OSError:
            out[Path(path)] = None
    return out


def _reads_invocation(files: list[Path]) -> bool:
    """Whether any of a pipeline's files reads the invocation prompt."""
    for path in files:
        try:
            if "step.invocation.prompt" in Path(path).read_text(encoding="utf-8"):
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False


class PipelineWatcher:
    """Validates ``path`` for ``app`` when it or a file it uses changes."""

    def __init__(self, app: AilApp, path: Path | None, *, watch: bool = True) -> None:
        self.app = app
        self.path = path
        self.enabled = watch
        self._watched: set[Path] = set()
        self._seen: dict[Path, float | None] = {}
        self._asked: dict[Path, bytes | None] = {}
        """The files' contents (digests) when the last validation started."""

    def validate_now(self, *, changed_only: bool = False) -> None:
        """Validate on a worker thread; the verdict comes back as a message
        (``changed_only``: not when no file changed since the last validation started,
        as when the backstop saw a save before the watcher did)."""
        if self.path is None:
            return
        files = self._watched | {self.path}
        contents = _digests(files)
        if changed_only and contents == self._asked:
            return
        self._asked = contents
        stamps = _stamps(files)
        self.app.run_worker(lambda: self._validate(stamps), thread=True, group="validate",
                            exclusive=True, exit_on_error=False,
                            description="validate pipeline")

    def _validate(self, stamps: dict[Path, float | None]) -> None:
        assert self.path is not None
        result = check_file(self.path)
        self._seen = {**stamps, **_stamps(set(result.files) - set(stamps))}
        self.app.post_message(PipelineChecked(result, _reads_invocation(result.files)))

    def check_stamps(self) -> None:
        """A backstop for file events the watcher missed (or a filesystem without them)."""
        if self.path is None or not self._seen:
            return
        if _stamps(set(self._seen)) != self._seen:
            self._seen = {}
            self.validate_now()

    def watch(self, files: set[Path]) -> None:
        """Watch ``files`` (the pipeline and what it uses) from now on."""
        files = {Path(f).resolve() for f in files}
        if not self.enabled or files == self._watched:
            return
        self._watched = files
        self.app.run_worker(self._watch_sources(files), group="watch", exclusive=True,
                            exit_on_error=False, description="watch files")

    async def _watch_sources(self, files: set[Path]) -> None:
        folders = sorted({str(f.parent) for f in files if f.parent.exists()})
        if not folders:
            return
        names = {str(f) for f in files}
        async for changes in awatch(*folders, debounce=400, step=30,
                                    rust_timeout=1000, yield_on_timeout=False):
            if any(str(Path(path).resolve()) in names for _, path in changes):
                self.validate_now(changed_only=True)

    def check_runners(self, pipeline: Pipeline) -> None:
        """Check, on a worker thread, whether the runners ``pipeline`` needs can run here."""
        self.app.run_worker(lambda: self._check_runners(pipeline), thread=True,
                            group="runners", exclusive=True, exit_on_error=False,
                            description="check runners")

    def _check_runners(self, pipeline: Pipeline) -> None:
        app = self.app
        names = needed_runners(pipeline, session_default(app.runner),
                               invocation=app.prompt is not None)
        checks = [check_runner(name, pipeline.defaults.provider,
                               claude=app.runners.claude_executable) for name in names]
        app.post_message(RunnersChecked(pipeline, checks))
