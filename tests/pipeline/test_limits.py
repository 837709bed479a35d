"""Resource limits (issue 9): small hostile files get a clear, positioned verdict at once.

Each CLI case runs ``python -m ail_tui`` in a fresh process under a small wrapper that
reports the child's exit code, output and peak RSS, so memory is measured per input.
The subprocess timeouts (and ``pytest.mark.timeout``) are hang guards, not speed
measures: ``benchmarks/bench_limits.py`` measures speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile_inputs import alias_bomb, nested_do_while

from ail_tui.files import (
    MAX_PIPELINE_BYTES,
    FileReadError,
    FileRefused,
    read_text_file,
)
from ail_tui.pipeline.diagnostics import Diagnostic, ErrorType
from ail_tui.pipeline.source import MAX_DEPTH, Position
from ail_tui.report import format_diagnostic

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD = 30.0
MEMORY_BOUND_MIB = 100
_MEASURED = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=float(sys.argv[1]))
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
json.dump({"code": done.returncode, "out": done.stdout, "err": done.stderr, "peak": peak},
          sys.stdout)
"""

pytestmark = pytest.mark.timeout(2 * HANG_GUARD)


@dataclass
class Outcome:
    """What one CLI run gave: exit code, output, and its peak RSS in MiB."""

    code: int
    out: str
    err: str
    peak_mib: float


def ail(cwd: Path, *args: str) -> Outcome:
    """Run ``python -m ail_tui ARGS`` in ``cwd`` in a fresh process; never waits forever."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AIL_HOME": str(cwd / "ail-home"),
           "NO_COLOR": "1"}
    wrapper = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(HANG_GUARD), sys.executable, "-m", "ail_tui",
         *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=HANG_GUARD + 10,
        check=False,
    )
    assert wrapper.returncode == 0, f"no verdict within {HANG_GUARD} s:\n{wrapper.stderr}"
    report = json.loads(wrapper.stdout)
    outcome = Outcome(report["code"], report["out"], report["err"], report["peak"])
    assert "Traceback" not in outcome.err, outcome.err
    assert outcome.peak_mib < MEMORY_BOUND_MIB, f"peak RSS {outcome.peak_mib:.0f} MiB"
    return outcome


def write(tmp_path: Path, text: str, name: str = "p.ail.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def first_line(outcome: Outcome) -> str:
    """The first diagnostic line (text-mode ``validate`` writes them on stderr)."""
    return outcome.err.splitlines()[0]


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space."""
    with path.open("wb") as f:
        f.truncate(size)
    return path


# --- alias expansion, nesting depth, long integers -------------------------------------


def test_alias_bomb_is_refused_at_the_alias(tmp_path: Path) -> None:
    text = alias_bomb()
    assert len(text) < 600
    done = ail(tmp_path, "validate", str(write(tmp_path, text)))
    assert done.code == 1
    line = first_line(done)
    assert "error[ail:config/invalid-yaml]" in line
    assert "aliases expand the document by more than 1,000,000" in line
    row, column = (int(n) for n in line.split(":")[1:3])
    alias = text.splitlines()[row - 1][column - 1:]
    assert alias.startswith("*a")


def test_aliases_of_a_shared_schema_in_many_steps_still_load(tmp_path: Path) -> None:
    steps = "".join(f"  - id: s{i}\n    prompt: hi\n    output_schema: *schema\n"
                    for i in range(1, 1000))
    text = ('version: "0.1"\npipeline:\n  - id: s0\n    prompt: hi\n    output_schema: &schema\n'
            "      type: object\n      properties: {ok: {type: boolean}, n: {type: integer}}\n"
            + steps)
    done = ail(tmp_path, "validate", str(write(tmp_path, text)))
    assert done.code == 0, done.out


@pytest.mark.parametrize("shape", ["[", "{a: "])
def test_deep_nesting_is_a_positioned_error(tmp_path: Path, shape: str) -> None:
    closing = "]" if shape == "[" else "}"
    deep = shape * 990 + ("" if shape == "[" else "1") + closing * 990
    text = f'version: "0.1"\npipeline:\n  - id: a\n    prompt: hi\n    output_schema: {deep}\n'
    done = ail(tmp_path, "validate", str(write(tmp_path, text)))
    assert done.code == 1
    assert first_line(done).startswith("p.ail.yaml:5:")
    assert f"nest deeper than {MAX_DEPTH} levels" in first_line(done)


def test_an_alias_counts_its_anchors_depth(tmp_path: Path) -> None:
    inner = "[" * 100 + "]" * 100
    outer = "[" * 60 + "*d" + "]" * 60
    text = f'version: "0.1"\npipeline:\n  - id: a\n    prompt: hi\n    meta:\n' \
           f"      d: &d {inner}\n      e: {outer}\n"
    done = ail(tmp_path, "validate", str(write(tmp_path, text)))
    assert done.code == 1
    assert first_line(done).startswith("p.ail.yaml:7:70: error[ail:config/invalid")
    assert "the alias '*d' makes mappings and sequences nest deeper" in first_line(done)


def test_integer_longer_than_4300_digits_is_a_positioned_error(tmp_path: Path) -> None:
    text = 'version: "0.1"\npipeline:\n  - id: a\n    prompt: hi\n    meta: ' + "9" * 5000
    done = ail(tmp_path, "validate", str(write(tmp_path, text + "\n")))
    assert done.code == 1
    assert first_line(done).startswith("p.ail.yaml:5:11: error[ail:config/invalid-yaml]")
    assert "at most 4,300 decimal digits (this one has 5,000)" in first_line(done)


def test_integers_up_to_4300_digits_still_load(tmp_path: Path) -> None:
    text = 'version: "0.1"\npipeline:\n  - id: a\n    prompt: hi\n    meta: ' + "9" * 4300
    assert ail(tmp_path, "validate", str(write(tmp_path, text + "\n"))).code == 0


# --- loops --------------------------------------------------------------------------


def test_deep_do_while_reports_the_depth_error_without_expanding_it(tmp_path: Path) -> None:
    done = ail(tmp_path, "validate", str(write(tmp_path, nested_do_while(22))))
    assert done.code == 1
    [error] = [line for line in done.err.splitlines() if "error[" in line]
    assert "error[ail:loop/depth-exceeded]: Step 'l14' nests loops deeper than 8" in error


def test_a_loop_file_that_contains_itself_is_a_depth_error_at_once(tmp_path: Path) -> None:
    loops = "".join(
        f"  - id: l{i}\n    do_while:\n      max_iterations: 2\n"
        f'      exit_when: "{{{{ step.l{i}.exit_code }}}} == 0"\n'
        "      pipeline: ./p.ail.yaml\n" for i in range(6))
    done = ail(tmp_path, "validate", str(write(tmp_path, 'version: "0.1"\npipeline:\n' + loops)))
    assert done.code == 1
    errors = [line for line in done.err.splitlines() if "error[" in line]
    assert len(errors) == 6
    assert all("error[ail:loop/depth-exceeded]" in e and "already open" in e for e in errors)


def test_loop_files_that_multiply_stop_at_the_step_budget(tmp_path: Path) -> None:
    for level in range(8):
        steps = "".join(
            f'  - id: x{i}\n    context: {{shell: "true"}}\n' if level == 7 else
            f"  - id: l{i}\n    do_while:\n      max_iterations: 2\n"
            f'      exit_when: "{{{{ step.l{i}.exit_code }}}} == 0"\n'
            f"      pipeline: ./f{level + 1}.ail.yaml\n"
            for i in range(10))
        write(tmp_path, 'version: "0.1"\npipeline:\n' + steps, f"f{level}.ail.yaml")
    done = ail(tmp_path, "validate", "f0.ail.yaml")
    assert done.code == 1
    [error] = [line for line in done.err.splitlines() if "error[" in line]
    assert "loop pipeline files add more than 10,000 steps" in error


def test_named_pipelines_that_call_each_other_twice_are_walked_once(tmp_path: Path) -> None:
    named = "".join(f"  p{i}:\n    - id: a\n      pipeline: p{i + 1}\n"
                    f"    - id: b\n      pipeline: p{i + 1}\n" for i in range(40))
    text = ('version: "0.1"\npipeline:\n  - id: go\n    pipeline: p0\npipelines:\n' + named
            + "  p40:\n    - id: x\n      prompt: hi\n")
    assert ail(tmp_path, "validate", str(write(tmp_path, text))).code == 0


# --- files: the pipeline itself (unreadable: exit 2) and the files it names (exit 1) -----


def test_fifo_as_the_pipeline_file_is_unreadable(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p.ail.yaml")
    done = ail(tmp_path, "validate", "p.ail.yaml")
    assert done.code == 2
    assert first_line(done) == ("p.ail.yaml: error[ail:config/file-not-found]: Could not read "
                                f"'{tmp_path / 'p.ail.yaml'}': is a FIFO, not a regular file")


def test_dev_zero_as_the_pipeline_file_is_unreadable(tmp_path: Path) -> None:
    done = ail(tmp_path, "validate", "/dev/zero")
    assert done.code == 2
    assert "is a character device, not a regular file" in first_line(done)


def test_a_pipeline_file_over_the_limit_is_not_read(tmp_path: Path) -> None:
    sparse(tmp_path / "p.ail.yaml", 1 << 30)
    done = ail(tmp_path, "validate", "p.ail.yaml")
    assert done.code == 2
    assert first_line(done).endswith(": is 1 GiB; pipeline files are read up to 4 MiB")


REFERENCES = {
    "prompt": ("  - id: a\n    prompt: ./ref\n", "4:13", "Step 'a' prompt file './ref'"),
    "system_prompt": ("  - id: a\n    prompt: hi\n    system_prompt: ./ref\n", "5:20",
                      "Step 'a' system_prompt file './ref'"),
    "chain": ("  - id: a\n    prompt: hi\n    before:\n      - ./ref\n", "6:7",
              "Step 'a' chain prompt file './ref'"),
    "loop": ("  - id: a\n    do_while:\n      max_iterations: 2\n"
             '      exit_when: "{{ step.a.exit_code }} == 0"\n      pipeline: ./ref\n', "7:17",
             "Step 'a' do_while pipeline file './ref'"),
    "FROM": ("  - id: a\n    prompt: hi\n", "1:7", "Could not read"),
}


def _referencing(tmp_path: Path, kind: str) -> tuple[Path, str, str]:
    steps, where, detail = REFERENCES[kind]
    head = 'FROM: ./ref\nversion: "0.1"\n' if kind == "FROM" else 'version: "0.1"\n'
    return write(tmp_path, head + "pipeline:\n" + steps), where, detail


@pytest.mark.parametrize("kind", REFERENCES)
def test_a_fifo_named_by_the_pipeline_is_a_positioned_error(tmp_path: Path, kind: str) -> None:
    path, where, detail = _referencing(tmp_path, kind)
    os.mkfifo(tmp_path / "ref")
    done = ail(tmp_path, "validate", path.name)
    assert done.code == 1
    line = first_line(done)
    assert line.startswith(f"p.ail.yaml:{where}: error[ail:config/file-not-found]: {detail}")
    assert line.endswith("is a FIFO, not a regular file")


@pytest.mark.parametrize("kind", ["prompt", "loop"])
def test_dev_zero_named_by_the_pipeline_is_a_positioned_error(tmp_path: Path, kind: str) -> None:
    path, where, _ = _referencing(tmp_path, kind)
    (tmp_path / "ref").symlink_to("/dev/zero")
    done = ail(tmp_path, "validate", path.name)
    assert done.code == 1
    assert first_line(done).startswith(f"p.ail.yaml:{where}: error[ail:config/file-not-found]")
    assert first_line(done).endswith("is a character device, not a regular file")


def test_a_big_prompt_file_is_refused_without_being_read(tmp_path: Path) -> None:
    path, where, _ = _referencing(tmp_path, "prompt")
    sparse(tmp_path / "ref", 1 << 30)
    done = ail(tmp_path, "validate", path.name)
    assert done.code == 1
    assert first_line(done) == (
        f"p.ail.yaml:{where}: error[ail:config/file-not-found]: Step 'a' prompt file './ref' "
        "could not be read: is 1 GiB; files referenced by a pipeline are read up to 8 MiB")


def test_a_missing_prompt_file_is_still_only_a_warning(tmp_path: Path) -> None:
    path, _, _ = _referencing(tmp_path, "prompt")
    done = ail(tmp_path, "validate", path.name)
    assert done.code == 0
    assert "warning[ail:config/file-not-found]" in first_line(done)


def test_a_path_with_a_nul_character_gives_a_finding_not_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, 'version: "0.1"\npipeline:\n  - id: a\n    prompt: "./a\\0b"\n')
    done = ail(tmp_path, "validate", path.name)
    assert done.code == 0
    assert first_line(done).endswith("(the path contains a NUL character); the step will fail "
                                     "when it runs")


# --- at run time ---------------------------------------------------------------------


def test_a_fifo_as_append_system_prompt_fails_the_step_when_it_runs(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "extra.md")
    path = write(tmp_path, """
        version: "0.1"
        pipeline:
          - id: a
            prompt: hi
            append_system_prompt:
              - file: ./extra.md
        """)
    done = ail(tmp_path, "run", path.name, "--headless", "--stub-response", "ok")
    assert done.code == 1
    failed = [json.loads(line) for line in done.out.splitlines() if '"step_failed"' in line]
    assert [e["error"] for e in failed] == [
        "Step 'a' append_system_prompt file './extra.md' could not be read: is a FIFO, "
        "not a regular file"]


def test_a_fifo_as_stub_script_is_a_clear_error(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "script.yaml")
    path = write(tmp_path, 'version: "0.1"\npipeline:\n  - id: a\n    prompt: hi\n')
    done = ail(tmp_path, "run", path.name, "--headless", "--stub-script", "script.yaml")
    assert done.code == 2
    assert done.err == ("ail-tui: cannot read stub script 'script.yaml': is a FIFO, "
                        "not a regular file\n")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "0", "-1"])
def test_timeout_seconds_must_be_finite_and_positive(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"""
        version: "0.1"
        pipeline:
          - id: a
            context: {{shell: "true"}}
            timeout_seconds: {value}
        """)
    done = ail(tmp_path, "run", path.name, "--headless")
    assert done.code == 1
    assert done.out == ""
    assert done.err.startswith("p.ail.yaml:5:22: error[ail:config/validation-failed]: Step 'a' "
                               "timeout_seconds must be a finite number above 0; got ")


# --- the reader and the report, in process --------------------------------------------


@pytest.mark.timeout(10)
def test_the_reader_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    cases = {tmp_path / "fifo": "is a FIFO, not a regular file",
             tmp_path: "is a directory, not a regular file",
             Path("/dev/null"): "is a character device, not a regular file"}
    for path, reason in cases.items():
        with pytest.raises(FileRefused, match=f"^{reason}$"):
            read_text_file(path)


@pytest.mark.timeout(10)
def test_the_reader_states_the_limit_and_reads_up_to_it(tmp_path: Path) -> None:
    at_limit = tmp_path / "at"
    at_limit.write_bytes(b"x" * MAX_PIPELINE_BYTES)
    assert len(read_text_file(at_limit, MAX_PIPELINE_BYTES, "pipeline files")) == (
        MAX_PIPELINE_BYTES)
    at_limit.write_bytes(b"x" * (MAX_PIPELINE_BYTES + 1))
    with pytest.raises(FileRefused, match=r"^is over 4 MiB; pipeline files are read up to 4 MiB$"):
        read_text_file(at_limit, MAX_PIPELINE_BYTES, "pipeline files")
    with pytest.raises(FileReadError, match=r"^No such file or directory$"):
        read_text_file(tmp_path / "gone")


@pytest.mark.timeout(10)
def test_a_report_never_waits_on_a_source_that_became_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p.ail.yaml")
    finding = Diagnostic(ErrorType.VALIDATION_FAILED, "bad",
                         Position(str(tmp_path / "p.ail.yaml"), 1, 1))
    assert format_diagnostic(finding, "p.ail.yaml") == [
        f"{tmp_path / 'p.ail.yaml'}:1:1: error[ail:config/validation-failed]: bad"]


def test_a_long_chain_of_dependent_branches_stays_small(tmp_path: Path) -> None:
    # Each branch reads the one before it: the reference check needs every step's
    # transitive depends_on, which took one set per step (650 MB for 5,000 steps).
    lines = ['version: "1"', "pipeline:", "  - {id: s0, async: true, prompt: x}"]
    lines += [f"  - {{id: s{i}, async: true, depends_on: [s{i - 1}], "
              f"prompt: '{{{{ step.s{i - 1}.response }}}}'}}" for i in range(1, 5000)]
    lines.append("  - {id: j, action: join, depends_on: [s4999]}")
    outcome = ail(tmp_path, "validate", str(write(tmp_path, "\n".join(lines) + "\n")))
    assert outcome.code == 0, outcome.out
