"""A stand-in for the ``claude`` CLI that replays a recorded stream-json transcript.

The transcript is ``claude_transcripts/$FAKE_CLAUDE_SCENARIO.jsonl``, or NAME when the
prompt starts with ``[scenario:NAME]`` (so branches of one pipeline can differ). Lines
are printed as they are, flushed one by one, except directive objects, which the fake
acts on instead:

* ``{"_sleep": S}``: pause S seconds;
* ``{"_exit": N, "_stderr": "text"}``: write text (``$VARS`` expanded) to stderr, exit N;
* ``{"_spawn_sleep": S}``: start ``sleep S`` in the background (same process group) and
  add its pid to the record file as ``grandchild_pid``.

When ``$FAKE_CLAUDE_RECORD`` names a file, the argv, cwd and the environment variables the
runner controls (and the fake's pid) are written there as JSON before anything is printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TRANSCRIPTS = Path(__file__).with_name("claude_transcripts")


def _record(extra: dict[str, Any]) -> None:
    path = os.environ.get("FAKE_CLAUDE_RECORD")
    if not path:
        return
    target = Path(path)
    data = json.loads(target.read_text()) if target.exists() else {}
    data.update(extra)
    target.write_text(json.dumps(data))


def main() -> int:
    _record({
        "pid": os.getpid(),
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "ANTHROPIC_BASE_URL": os.environ.get("ANTHROPIC_BASE_URL"),
        "auth_token_set": "ANTHROPIC_AUTH_TOKEN" in os.environ,
        "auth_token_matches": os.environ.get("ANTHROPIC_AUTH_TOKEN")
        == os.environ.get("FAKE_CLAUDE_EXPECT_TOKEN"),
        "CLAUDECODE": "CLAUDECODE" in os.environ,
        "stdin_is_devnull": os.path.samefile("/dev/null", "/proc/self/fd/0"),
    })
    scenario = os.environ.get("FAKE_CLAUDE_SCENARIO", "full")
    prompt = sys.argv[-1] if len(sys.argv) > 2 and sys.argv[-2] == "-p" else ""
    if prompt.startswith("[scenario:"):
        scenario = prompt[len("[scenario:"):].split("]", 1)[0]
    for line in (TRANSCRIPTS / f"{scenario}.jsonl").read_text().splitlines():
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict) and any(key.startswith("_") for key in data):
            if "_spawn_sleep" in data:
                child = subprocess.Popen(["sleep", str(data["_spawn_sleep"])])
                _record({"grandchild_pid": child.pid})
            if "_sleep" in data:
                time.sleep(float(data["_sleep"]))
            if "_exit" in data:
                sys.stderr.write(os.path.expandvars(data.get("_stderr", "")))
                sys.stderr.flush()
                return int(data["_exit"])
            continue
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
