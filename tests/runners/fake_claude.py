"""A stand-in for the ``claude`` CLI that replays a recorded stream-json transcript.

The transcript is ``claude_transcripts/$FAKE_CLAUDE_SCENARIO.jsonl``, or NAME when the
prompt starts with ``[scenario:NAME]`` (so branches of one pipeline can differ). As the
real CLI, a prompt starting with ``-`` that does not follow ``--`` is an unknown option
(exit 1); ``--version`` prints a version. Lines
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


def _prompt(args: list[str]) -> tuple[str, bool]:
    """The argument after ``-p``, and whether it is read as an option (no ``--`` before)."""
    if "-p" not in args:
        return "", False
    rest = args[args.index("-p") + 1:]
    if rest[:1] == ["--"]:
        return (rest[1] if len(rest) > 1 else ""), False
    prompt = rest[0] if rest else ""
    return prompt, prompt.startswith("-")


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
    if sys.argv[1:] == ["--version"]:
        print("2.1.3 (Claude Code)")
        return 0
    scenario = os.environ.get("FAKE_CLAUDE_SCENARIO", "full")
    prompt, is_option = _prompt(sys.argv[1:])
    if is_option:  # as the real CLI's option parser does
        sys.stderr.write(f"error: unknown option '{prompt}'\n")
        return 1
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
