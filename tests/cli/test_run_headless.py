"""`ail-tui run --headless`: NDJSON events, exit codes, Ctrl-C, the samples offline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_pipelines"


def _env(home: Path) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "AIL_HOME": str(home), "PYTHONPATH": path}


def ail(*args: str, home: Path, cwd: Path = ROOT,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = _env(home)
    return subprocess.run([sys.executable, "-m", "ail_tui", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=timeout, check=False)


def events(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_ndjson_events_are_sorted_key_json_lines(tmp_path: Path) -> None:
    done = ail("run", str(SAMPLES / "sequential.ail.yaml"), "--headless", "--stub-response",
               "ok", "--prompt", "release 1.2", home=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for line in lines:
        assert line == json.dumps(json.loads(line), sort_keys=True, separators=(",", ":"),
                                  ensure_ascii=False)
    parsed = events(done.stdout)
    assert parsed[0]["type"] == "run_started"
    assert parsed[-1] == {**parsed[-1], "type": "pipeline_completed", "outcome": "break",
                          "step_id": "done"}
    assert all("at" in e for e in parsed)


@pytest.mark.parametrize(
    ("sample", "code", "last"),
    [
        ("ci_checks.ail.yaml", 0, "pipeline_completed"),
        ("review_fanout.ail.yaml", 0, "pipeline_completed"),
        ("sequential.ail.yaml", 0, "pipeline_completed"),
        ("fail_fast_demo.ail.yaml", 1, "pipeline_error"),
    ],
)
def test_samples_run_offline(tmp_path: Path, sample: str, code: int, last: str) -> None:
    done = ail("run", str(SAMPLES / sample), "--headless", "--stub-script",
               str(SAMPLES / "stub_script.yaml"), home=tmp_path)
    assert done.returncode == code, done.stdout[-2000:] + done.stderr
    parsed = events(done.stdout)
    assert parsed[-1]["type"] == last
    if sample == "fail_fast_demo.ail.yaml":
        cancelled = {e["step_id"] for e in parsed if e["type"] == "step_cancelled"}
        assert cancelled == {"slow_suite", "slower_suite"}


def test_invalid_pipeline_is_reported_not_run(tmp_path: Path) -> None:
    done = ail("run", str(SAMPLES / "invalid.ail.yaml"), "--headless", home=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "invalid — 6 errors" in done.stderr


def test_bad_stub_script_is_a_clear_error(tmp_path: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text("steps:\n  a: {delay: -1}\n")
    done = ail("run", str(SAMPLES / "sequential.ail.yaml"), "--headless", "--stub-script",
               str(script), home=tmp_path)
    assert done.returncode == 2
    assert "stub script" in done.stderr and "Traceback" not in done.stderr


def test_ctrl_c_cancels_cleanly(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    pipeline = tmp_path / "p.ail.yaml"
    pipeline.write_text(
        'version: "1"\npipeline:\n'
        f'  - id: a\n    async: true\n    context: {{shell: "echo $$ >> {pids}; sleep 30"}}\n'
        f'  - id: b\n    async: true\n    context: {{shell: "echo $$ >> {pids}; sleep 30"}}\n'
        "  - id: j\n    action: join\n    depends_on: [a, b]\n"
    )
    env = _env(tmp_path / "home")
    process = subprocess.Popen([sys.executable, "-m", "ail_tui", "run", str(pipeline),
                                "--headless"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=tmp_path)
    deadline = time.monotonic() + 10
    while not (pids.exists() and len(pids.read_text().split()) == 2):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    parsed = events(out)
    assert parsed[-1]["type"] == "pipeline_error"
    assert parsed[-1]["error_type"] == "ail:runner/cancelled"
    time.sleep(0.2)
    for pid in pids.read_text().split():
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(
            f"/proc/{pid}/stat").read_text().split()[2]
    [log] = list((tmp_path / "home").rglob("*.jsonl"))
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["type"] == "run_finished" and last["status"] == "cancelled"
