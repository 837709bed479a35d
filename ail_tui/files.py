"""Reading a file that a user or a pipeline names, without hanging or flooding memory.

Only a regular file is read: a FIFO, device, socket or directory is refused before it is
read (and opening never blocks, so a FIFO can't hang the caller), and so is a file over
the size limit, which is never read past its limit.
"""

from __future__ import annotations

import os
import stat

MAX_PIPELINE_BYTES = 4 * 2**20
"""Pipeline files (and their FROM bases and loop files) are read up to 4 MiB."""

MAX_REFERENCED_BYTES = 8 * 2**20
"""Prompt, system-prompt and stub-script files are read up to 8 MiB."""

_CHUNK = 1 << 16

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileReadError(Exception):
    """A file that could not be read; the message is the reason, without the path."""


class FileRefused(FileReadError):
    """A file the limits refuse: not a regular file, or larger than the limit."""


def _size_text(size: int) -> str:
    """``size`` bytes in binary units: ``512 bytes``, ``8 MiB``, ``1.5 GiB``."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _check_kind(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "a special file")
    raise FileRefused(f"is {kind}, not a regular file")


def _too_big(size: int | None, limit: int, what: str) -> FileRefused:
    """``size`` is None when the file is only known to be over ``limit``."""
    shown = _size_text(size) if size is not None else ""
    if shown in ("", _size_text(limit)):
        shown = f"over {_size_text(limit)}"
    return FileRefused(f"is {shown}; {what} are read up to {_size_text(limit)}")


def read_file_bytes(path: str | os.PathLike[str], limit: int, what: str) -> bytes:
    """The bytes of the regular file ``path``; raise :class:`FileReadError` with the reason.

    ``what`` names the files the limit is for, as the message says it
    (e.g. ``"files referenced by a pipeline"``).
    """
    try:
        _check_kind(os.stat(path).st_mode)  # a device is refused before it is even opened
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise FileReadError(exc.strerror or str(exc)) from None
    except ValueError:  # a NUL character, which no path can hold
        raise FileReadError("the path contains a NUL character") from None
    try:
        info = os.fstat(fd)
        _check_kind(info.st_mode)  # it may have been replaced since the stat above
        if info.st_size > limit:
            raise _too_big(info.st_size, limit, what)
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, _CHUNK):
            total += len(chunk)
            if total > limit:  # it grew, or its size was not known (/proc)
                raise _too_big(None, limit, what)
            chunks.append(chunk)
    except OSError as exc:
        raise FileReadError(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text_file(path: str | os.PathLike[str], limit: int = MAX_REFERENCED_BYTES,
                   what: str = "files referenced by a pipeline") -> str:
    """The UTF-8 text of the regular file ``path`` (see :func:`read_file_bytes`)."""
    data = read_file_bytes(path, limit, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileReadError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
