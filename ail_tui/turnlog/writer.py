"""The durable turn-log writer: one sorted-key JSON record per line, synced to disk.

Safe to call from many branch threads; each record is on disk (``fdatasync``) before
:meth:`TurnLogWriter.write` returns, so a crash never loses a step that went on.
Records written at the same moment by several threads share one sync (group commit),
and so do records written with ``defer=True``: they wait, in order, for the next write
or :meth:`TurnLogWriter.flush`, which its caller makes before anything depends on them.
Records on disk are handed, in order, to an ``on_durable`` callback (the SQLite mirror).
"""

from __future__ import annotations

import _json
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ail_tui.turnlog import liveness

log = logging.getLogger(__name__)

_DIR_MODE = 0o700
_FILE_MODE = 0o600


def _unencodable(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODE = _json.make_encoder(None, _unencodable, _json.encode_basestring, None, ":", ",",
                             True, False, True)
"""What ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` runs,
made once (``json`` makes a new one on every call); records are never circular."""


def encode_record(record: dict[str, Any]) -> bytes:
    """The record's bytes as Rust writes them: sorted keys, compact, raw UTF-8, newline."""
    return "".join(_ENCODE(record, 0)).encode("utf-8") + b"\n"


_TAIL = 1 << 20
"""How far back a torn last line is looked for."""


def _drop_torn_tail(path: Path, fd: int) -> None:
    """A log that goes on (a resumed run) may end in a record its crashed writer never
    finished: cut it, so the next record starts on a line of its own."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    with open(path, "rb") as log:
        log.seek(max(size - _TAIL, 0))
        tail = log.read()
    if tail.endswith(b"\n"):
        return
    newline = tail.rfind(b"\n")
    if newline < 0 and size > _TAIL:
        os.write(fd, b"\n")  # a torn line too long to look past: end it instead
        return
    os.ftruncate(fd, size - len(tail) + newline + 1)



class TurnLogWriter:
    """Appends records to one run's JSONL file."""

    def __init__(self, path: Path, *, sync: bool = True,
                 on_durable: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        """``on_durable`` gets each batch of records once it is on disk (in the syncing
        thread, in log order; it must return quickly)."""
        self.path = path
        self._sync = sync
        self._on_durable = on_durable
        self._pending_records: list[dict[str, Any]] = []  # kept for on_durable only
        self._lock = threading.Lock()
        self._synced = threading.Condition(self._lock)  # told when a batch is done
        self._waiting = 0  # threads waiting for it
        self._pending: list[bytes] = []
        self._queued = 0  # records handed to write()
        self._durable = 0  # records on disk
        self._flushing = False
        self._fd: int | None = None
        self._size = 0  # bytes of whole records in the file
        self.failed: str | None = None
        """Why a record was lost (the first failure), or None while every write landed."""

    def _open(self) -> int:
        self.path.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.path, flags, _FILE_MODE)
        liveness.hold(fd)
        _drop_torn_tail(self.path, fd)
        return fd

    def write(self, record: dict[str, Any], *, defer: bool = False) -> None:
        """Append ``record`` and sync it (``defer``: at the next write or flush).

        A failure is kept in :attr:`failed`, never raised.
        """
        data = encode_record(record)
        with self._lock:
            self._pending.append(data)
            if self._on_durable is not None:
                self._pending_records.append(record)
            self._queued += 1
            if not defer:
                self._sync_upto(self._queued)

    def flush(self) -> None:
        """Put every record written so far on disk."""
        if self._durable >= self._queued:
            return  # a later write's sync took them along (both counts only grow)
        with self._lock:
            self._sync_upto(self._queued)

    def _sync_upto(self, mine: int) -> None:
        """With the lock held: return once the first ``mine`` records are on disk."""
        while self._durable < mine:
            if self._flushing:
                self._wait_for_batch()
                continue
            batch, self._pending = self._pending, []
            records, self._pending_records = self._pending_records, []
            upto = self._queued
            self._flushing = True
            self._lock.release()
            try:
                if self._flush(b"".join(batch)) and self._on_durable is not None:
                    self._on_durable(records)
            finally:
                self._lock.acquire()
                self._flushing = False
                self._durable = upto
                if self._waiting:
                    self._synced.notify_all()

    def _wait_for_batch(self) -> None:
        """With the lock held: wait until the batch another thread is syncing is done."""
        self._waiting += 1
        self._synced.wait()
        self._waiting -= 1

    def _flush(self, data: bytes) -> bool:
        """Append and sync ``data``; False when it did not land."""
        try:
            if self._fd is None:
                self._fd = self._open()
                self._size = os.fstat(self._fd).st_size
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            if self._sync:
                os.fdatasync(self._fd)
            self._size += len(data)
        except OSError as exc:
            if self.failed is None:
                self.failed = f"{self.path}: {exc.strerror or exc}"
            log.warning("turn log write failed: %s: %s", self.path, exc.strerror or exc)
            self._cut_partial()
            return False
        return True

    def _cut_partial(self) -> None:
        """Drop the bytes of a batch written in part, so no record is glued to the next."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            # Could not cut: end the torn line, so the next record starts on its own.
            with contextlib.suppress(OSError):
                os.write(self._fd, b"\n")

    def close(self) -> None:
        """Put deferred records on disk and close the file; later writes reopen it."""
        with self._lock:
            self._sync_upto(self._queued)
            while self._flushing:
                self._wait_for_batch()
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> TurnLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
