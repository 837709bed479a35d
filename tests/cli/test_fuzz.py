"""Fuzzing the CLI: any file gets a verdict and any valid pipeline runs to an honest end.

Every input is handled without a traceback, with an exit code of the contract (validate
0/1/2, run 0/1), in bounded time and memory. Inputs mix generated YAML with the worst
cases found by the fault campaign of issue 9: alias bombs, deep nesting, huge integers,
non-finite timeouts and special files as references.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile_inputs import alias_bomb, nested_do_while
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ail_tui.cli import main

MEMORY_BOUND = 100 * 2**20
TIME_BOUND = 10.0
"""A hang guard, not a speed measure: the benchmarks measure speed."""

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


@contextlib.contextmanager
def bounded() -> Iterator[None]:
    """Fail when the block takes more than the time or memory bounds, or a thread raises."""
    failures: list[BaseException] = []
    previous = threading.excepthook
    threading.excepthook = lambda hook: failures.append(hook.exc_value or Exception())
    tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        took = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        threading.excepthook = previous
    assert not failures, failures
    assert took < TIME_BOUND
    assert peak < MEMORY_BOUND


def cli(*args: str) -> tuple[int, str, str]:
    """Run the CLI in this process; its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


# -- inputs ------------------------------------------------------------------------------

HOSTILE = [
    # a billion laughs inside an output schema
    "s: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
              for i in range(8)),
    "deep: " + "[" * 3000 + "]" * 3000 + "\n",
    "deep: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
    "n: " + "9" * 5000 + "\n",
    "timeout_seconds: .nan\n",
    "timeout_seconds: .inf\n",
    "prompt: /dev/zero\n",
    "prompt: ./fifo\n",
    "system_prompt: ./fifo\n",
    "FROM: ./fifo\n",
    "pipeline: ./fifo\n",
    "auth_token: sk-secret-value-123\n",
    "a: !!binary aGVsbG8=\n",
    "a: !!python/object:os.system x\n",
    "\ufeffversion: '1'\n",
    "version: 1\npipeline: [{id: a, prompt: x}]\n\x00",
]
KEYS = ["version", "pipeline", "id", "prompt", "context", "shell", "async", "depends_on",
        "action", "on_error", "on_result", "timeout_seconds", "do_while", "steps",
        "max_iterations", "exit_when", "output_schema", "defaults", "max_concurrency",
        "system_prompt", "append_system_prompt", "FROM", "pipelines", "condition"]
fragments = st.one_of(
    st.sampled_from(HOSTILE),
    st.builds(lambda k, v: f"{k}: {v}\n", st.sampled_from(KEYS),
              st.sampled_from(["x", "1", "-1", "1e400", ".nan", "[a]", "{}", "*a", "&a x",
                               "./fifo", "/dev/zero", "./big.md", "'{{ step.x.response }}'",
                               "join", "fail_fast", "true", "null"])),
    st.text(max_size=40),
)
STEP = 'version: "1"\npipeline:\n  - id: a\n'
PLACED = [  # the hostile values where a pipeline reads them
    STEP + "    prompt: ./fifo\n",
    STEP + "    prompt: /dev/zero\n",
    STEP + "    prompt: ./big.md\n",
    STEP + "    prompt: x\n    system_prompt: ./fifo\n",
    STEP + "    prompt: x\n    append_system_prompt: [{file: ./fifo}]\n",
    STEP + "    do_while: {max_iterations: 2, exit_when: 'x == y', pipeline: ./fifo}\n",
    'FROM: ./fifo\nversion: "1"\npipeline: [{id: a, prompt: x}]\n',
    STEP + "    context: {shell: 'true'}\n    timeout_seconds: .nan\n",
    alias_bomb(),
    nested_do_while(22),
]
documents = st.one_of(
    st.sampled_from(PLACED),
    st.builds(lambda placed, extra: placed + extra, st.sampled_from(PLACED),
              st.lists(fragments, max_size=3).map("".join)),
    st.lists(fragments, max_size=8).map("".join),
)


@pytest.fixture
def special_files(tmp_path: Path) -> Path:
    """A directory holding a FIFO and a sparse 1 GiB file that pipelines refer to."""
    os.mkfifo(tmp_path / "fifo")
    with open(tmp_path / "big.md", "wb") as big:
        big.truncate(2**30)
    return tmp_path


@pytest.mark.timeout(600)
@SETTINGS
@given(text=documents, as_json=st.booleans())
def test_validate_any_file(special_files: Path, text: str, as_json: bool) -> None:
    path = special_files / "p.ail.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with bounded():
        code, out, err = cli("validate", str(path), "--format", "json" if as_json else "text")
    assert code in (0, 1, 2)
    assert out or err
    assert "Traceback" not in out + err
    assert "sk-secret-value-123" not in out + err


# -- runs --------------------------------------------------------------------------------

SHELLS = ["echo ok", "true", "false", "printf 'a\\nb\\n'", "sleep 0.01", "exit 3"]


@st.composite
def pipelines(draw: st.DrawFn) -> dict[str, Any]:
    """A valid-looking pipeline of prompt and shell steps, some parallel, some joined."""
    count = draw(st.integers(1, 6))
    steps: list[dict[str, Any]] = []
    asyncs: list[str] = []
    for i in range(count):
        step: dict[str, Any] = {"id": f"s{i}"}
        if draw(st.booleans()):
            step["prompt"] = draw(st.sampled_from(
                ["hi", "{{ last_response }}", "{{ step.s0.response }}", "x" * 50]))
        else:
            step["context"] = {"shell": draw(st.sampled_from(SHELLS))}
        if draw(st.integers(0, 2)) == 0:
            step["async"] = True
            asyncs.append(step["id"])
        step["on_error"] = draw(st.sampled_from(["continue", "abort_pipeline", "retry"]))
        if step["on_error"] == "retry":
            step["max_retries"] = draw(st.integers(0, 2))
        if draw(st.integers(0, 3)) == 0:
            step["on_result"] = [{"contains": "ok", "action": draw(st.sampled_from(
                ["continue", "break", "abort_pipeline"]))}, {"always": True,
                                                             "action": "continue"}]
        steps.append(step)
    if asyncs:
        steps.append({"id": "gate", "action": "join", "depends_on": asyncs,
                      "on_error": draw(st.sampled_from(["fail_fast", "wait_for_all"]))})
    return {"version": "1", "defaults": {"max_concurrency": draw(st.integers(1, 4))},
            "pipeline": steps}


@pytest.mark.timeout(600)
@SETTINGS
@given(pipeline=pipelines())
def test_run_any_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          pipeline: dict[str, Any]) -> None:
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "p.ail.yaml"
    path.write_text(yaml.safe_dump(pipeline), encoding="utf-8")
    with bounded():
        code, out, err = cli("run", str(path), "--headless", "--stub-response", "ok")
    assert "Traceback" not in err
    if code == 1 and not out:
        assert "error[" in err  # rejected by validation, nothing started
        return
    assert code in (0, 1), err
    last = yaml.safe_load(out.splitlines()[-1])
    assert last["type"] == ("pipeline_completed" if code == 0 else "pipeline_error")
