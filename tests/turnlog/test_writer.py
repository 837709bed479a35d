"""The durable writer: whole sorted-key lines, from many threads, private files."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

from ail_tui.turnlog.writer import TurnLogWriter, encode_record


def test_records_are_sorted_compact_utf8() -> None:
    assert encode_record({"b": 1, "a": {"z": "é", "c": None}}) == (
        '{"a":{"c":null,"z":"é"},"b":1}\n'.encode())


def test_many_threads_write_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "r.jsonl"
    writer = TurnLogWriter(path)
    payload = "x" * 5000

    def write(n: int) -> None:
        for i in range(25):
            writer.write({"step_id": f"t{n}-{i}", "text": payload})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]
    assert sorted(r["step_id"] for r in records) == sorted(
        f"t{n}-{i}" for n in range(16) for i in range(25))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_write_failure_is_remembered_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    writer = TurnLogWriter(blocker / "sub" / "r.jsonl")
    writer.write({"a": 1})
    assert writer.failed is not None
