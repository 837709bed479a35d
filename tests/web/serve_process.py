"""``ail-tui serve`` as a process of the test's own: started in a scratch world (its own
``HOME``, ``AIL_HOME``, runtime folder and a tag every process it starts inherits), its
URL read from what it prints; on the way out it, and whatever carries its tag, is killed
by pid."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from private_runtime import private_runtime
from processes import TAG_VARIABLE, none_tagged_within
from waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"serving the dashboard on (http://\S+)")


@dataclass
class Served:
    """A running ``ail-tui serve`` and what it has printed so far."""

    process: subprocess.Popen[str]
    tag: str
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def url(self, within: float = 30.0) -> str:
        """The URL it serves on, once it says so."""
        def said() -> str:
            found = URL.search("".join(self.out))
            if found is None and self.process.poll() is not None:
                raise AssertionError(f"the server ended ({self.process.returncode}): "
                                     f"{''.join(self.out)}{''.join(self.err)}")
            return found.group(1) if found else ""

        return str(wait_for(said, within, "the server's URL"))

    def stop(self, signum: int = signal.SIGINT, within: float = 15.0) -> int:
        """Send ``signum`` (Ctrl+C's SIGINT by default) and wait for the exit code."""
        self.process.send_signal(signum)
        return self.process.wait(timeout=within)


def world(home: Path, runtime: Path, tag: str) -> dict[str, str]:
    """The server's environment: a scratch home and runtime folder, and the tag."""
    env = dict(os.environ)
    env.update({"HOME": str(home), "AIL_HOME": str(home / ".ail"),
                "XDG_CONFIG_HOME": str(home / ".config"), "AIL_TUI_RUNTIME_DIR": str(runtime),
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
                TAG_VARIABLE: tag})
    return env


def _collect(stream: IO[str], into: list[str]) -> None:
    for line in stream:  # each line as it comes
        into.append(line)


@contextlib.contextmanager
def serving(tmp_path: Path, *args: str, cwd: Path = ROOT) -> Iterator[Served]:
    """``ail-tui serve ARGS`` run in ``cwd``, in a process group of its own; killed by its
    pid on the way out (if it has not ended)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    tag = f"web-{uuid.uuid4().hex}"
    with private_runtime() as runtime:
        process = subprocess.Popen(
            [sys.executable, "-m", "ail_tui", "serve", *args], cwd=cwd,
            env=world(home, runtime, tag), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True)
        served = Served(process, tag)
        readers = [threading.Thread(target=_collect, args=(stream, lines), daemon=True)
                   for stream, lines in ((process.stdout, served.out),
                                         (process.stderr, served.err))]
        for reader in readers:
            reader.start()
        try:
            yield served
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            for pid in none_tagged_within(tag, 5):  # what a failed test left: ours, by pid
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            for reader in readers:
                reader.join(timeout=5)
