"""The durable turn-log writer: one sorted-key JSON record per line, synced to disk.

Safe to call from many branch threads; each record is on disk (``fdatasync``) before
:meth:`TurnLogWriter.write` returns, so a crash never loses a step that went on.
Records written at the same moment by several threads share one sync (group commit).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_DIR_MODE = 0o700
_FILE_MODE = 0o600


def encode_record(record: dict[str, Any]) -> bytes:
    """The record's bytes as Rust writes them: sorted keys, compact, raw UTF-8, newline."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8") + b"\n"


class TurnLogWriter:
    """Appends records to one run's JSONL file."""

    def __init__(self, path: Path, *, sync: bool = True) -> None:
        self.path = path
        self._sync = sync
        self._cond = threading.Condition()
        self._pending: list[bytes] = []
        self._queued = 0  # records handed to write()
        self._durable = 0  # records on disk
        self._flushing = False
        self._fd: int | None = None
        self.failed: str | None = None

    def _open(self) -> int:
        self.path.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        return os.open(self.path, flags, _FILE_MODE)

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` and sync it; a failure is logged and remembered, never raised."""
        data = encode_record(record)
        with self._cond:
            self._pending.append(data)
            self._queued += 1
            mine = self._queued
            while self._durable < mine:
                if self._flushing:
                    self._cond.wait()
                    continue
                batch, self._pending = self._pending, []
                upto = self._queued
                self._flushing = True
                self._cond.release()
                try:
                    self._flush(b"".join(batch))
                finally:
                    self._cond.acquire()
                    self._flushing = False
                    self._durable = upto
                    self._cond.notify_all()

    def _flush(self, data: bytes) -> None:
        try:
            if self._fd is None:
                self._fd = self._open()
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            if self._sync:
                os.fdatasync(self._fd)
        except OSError as exc:
            self.failed = f"{self.path}: {exc.strerror or exc}"
            log.warning("turn log write failed: %s", self.failed)

    def close(self) -> None:
        """Close the file; later writes reopen it."""
        with self._cond:
            while self._flushing:
                self._cond.wait()
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> TurnLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
