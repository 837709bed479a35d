"""`ail-tui run PIPELINE --dry-run`: every prompt resolved, nothing run, nothing written."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ail_tui.cli import main
from ail_tui.runners import registry, stub


@pytest.fixture(autouse=True)
def nothing_may_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private AIL_HOME, and any runner or process a dry run would start fails the test."""
    home = tmp_path / "ail-home"
    monkeypatch.setenv("AIL_HOME", str(home))
    monkeypatch.delenv("AIL_DEFAULT_RUNNER", raising=False)
    monkeypatch.chdir(tmp_path)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a dry run started a runner or a process")

    monkeypatch.setattr(subprocess.Popen, "__init__", forbidden)
    monkeypatch.setattr(registry.RunnerFactory, "create", forbidden)
    monkeypatch.setattr(stub.StubRunner, "__init__", forbidden)
    return home


def write(directory: Path, text: str, name: str = "p.ail.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def dry_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["run", *argv, "--dry-run", "--format", "json"]) == 0
    plan: dict[str, Any] = json.loads(capsys.readouterr().out)
    return plan


def by_id(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in steps}


SEQUENTIAL = """\
version: "0.1"
defaults: {model: base-model}
pipeline:
  - id: make
    context: {shell: "touch made-by-shell && echo built"}
  - id: review
    runner: stub
    model: review-model
    prompt: ./review.md
    system_prompt: "You review for {{ env.TEAM }}."
  - id: answer
    prompt: "{{ step.invocation.prompt }} / {{ last_response }} / {{ env.MISSING }}"
"""


def test_sequential_steps_resolve_and_nothing_runs(
        tmp_path: Path, nothing_may_run: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAM", "core")
    write(tmp_path, "Review {{ step.make.result }} (exit {{ step.make.exit_code }})", "review.md")
    path = write(tmp_path, SEQUENTIAL)

    assert main(["run", str(path), "--dry-run", "--prompt", "ship it"]) == 0

    out = capsys.readouterr().out
    assert "1. invocation [invocation]" in out
    assert "2. make [shell]" in out
    assert "shell: touch made-by-shell && echo built" in out
    assert "3. review [prompt] · runner stub, model review-model" in out
    assert "prompt: Review <output of make> (exit <exit_code of make>)" in out
    assert "system prompt: You review for core." in out
    assert "4. answer [prompt] · runner claude, model base-model" in out
    assert "prompt: ship it / <output of review> / <unresolved env.MISSING>" in out
    assert "! would fail: Environment variable 'MISSING' is not set" in out
    assert not (tmp_path / "made-by-shell").exists()
    assert not nothing_may_run.exists()  # no turn log, no project folder


PARALLEL = """\
version: "0.1"
defaults: {max_concurrency: 2}
pipeline:
  - id: lint
    async: true
    context: {shell: "ruff check ."}
  - id: test
    async: true
    context: {shell: "pytest -q"}
  - id: smoke
    async: true
    depends_on: [test]
    prompt: "Smoke test after {{ step.test.stdout }}"
  - id: checks
    action: join
    depends_on: [lint, smoke]
    on_error: wait_for_all
  - id: summary
    prompt: "{{ step.checks.response }}"
    on_error: retry
    max_retries: 2
    on_result:
      - contains: LGTM
        action: continue
      - always: true
        action: abort_pipeline
"""


def test_parallel_branches_and_join_as_json(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    plan = dry_json(capsys, str(write(tmp_path, PARALLEL)), "--runner", "stub")

    assert plan["valid"] is True and plan["runner"] == "stub"
    assert plan["max_concurrency"] == 2 and plan["prompt"] is None
    steps = by_id(plan["steps"])
    assert list(steps) == ["lint", "test", "smoke", "checks", "summary"]
    assert {steps[s]["group"] for s in ("lint", "test", "smoke")} == {"g1"}
    assert steps["smoke"]["depends_on"] == ["test"]
    assert steps["smoke"]["prompt"] == "Smoke test after <stdout of test>"
    assert steps["checks"]["kind"] == "join" and steps["checks"]["group"] is None
    assert steps["checks"]["depends_on"] == ["lint", "smoke"]
    assert steps["checks"]["on_error"] == "wait_for_all"
    assert steps["summary"]["prompt"] == "<output of checks>"
    assert steps["summary"]["on_error"] == "retry (max_retries 2)"
    assert steps["summary"]["on_result"] == ["contains LGTM → continue",
                                             "always → abort_pipeline"]
    assert set(steps["lint"]) == set(steps["summary"])  # one shape for every step


LOOPS = """\
version: "0.1"
pipeline:
  - id: fix
    do_while:
      max_iterations: 3
      exit_when: "{{ step.test.exit_code }} == 0"
      steps:
        - id: patch
          prompt: "Attempt {{ do_while.iteration }} of {{ do_while.max_iterations }}"
        - id: test
          context: {shell: "pytest -q"}
  - id: each
    for_each:
      over: '["a.py", "b.py", "c.py"]'
      as: file
      max_items: 2
      steps:
        - id: lint
          prompt: "Lint {{ for_each.file }} ({{ for_each.index }}/{{ for_each.total }})"
"""


def test_loops_show_their_body_once_with_loop_placeholders(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = dry_json(capsys, str(write(tmp_path, LOOPS)))

    fix, each = plan["steps"]
    assert fix["kind"] == "do_while" and fix["loop"]["max_iterations"] == 3
    assert fix["loop"]["exit_when"] == {"text": "{{ step.test.exit_code }} == 0",
                                        "resolved": "<exit_code of test> == 0",
                                        "decision": "at run time"}
    assert [s["id"] for s in fix["steps"]] == ["fix::patch", "fix::test"]
    assert fix["steps"][0]["prompt"] == "Attempt <do_while.iteration> of 3"
    assert each["loop"]["items"] == 2 and each["loop"]["item_name"] == "file"
    assert each["steps"][0]["prompt"] == "Lint <for_each.file> (<for_each.index>/2)"


def test_a_sub_pipeline_is_shown_with_the_prompt_it_receives(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, 'version: "0.1"\npipeline:\n  - id: inner\n'
                    '    prompt: "Child got: {{ step.invocation.prompt }}"\n', "child.ail.yaml")
    parent = write(tmp_path, 'version: "0.1"\npipeline:\n'
                             '  - id: draft\n    prompt: "Write it"\n'
                             '  - id: delegate\n    pipeline: ./child.ail.yaml\n'
                             '  - id: missing\n    pipeline: ./nowhere.ail.yaml\n')

    assert main(["run", str(parent), "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert "2. delegate [pipeline]" in out
    assert "pipeline: child.ail.yaml" in out
    assert "prompt: <output of draft>" in out
    assert "2.1. inner [prompt]" in out
    assert "prompt: Child got: <output of draft>" in out
    assert "3. missing [pipeline]" in out
    assert "! would fail: " in out and "nowhere.ail.yaml" in out


CONDITIONS = """\
version: "0.1"
pipeline:
  - id: classify
    prompt: "Bug or feature?"
  - id: bugfix
    condition: "{{ step.classify.response }} contains bug"
    prompt: "Fix it"
  - id: staging
    condition: "{{ env.DEPLOY_ENV }} == staging"
    prompt: "Deploy to staging"
  - id: prod
    condition: "{{ env.DEPLOY_ENV }} == prod"
    prompt: "Deploy to prod"
  - id: later
    condition: never
    prompt: "Not now"
"""


def test_conditions_decided_now_or_at_run_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_ENV", "staging")
    path = str(write(tmp_path, CONDITIONS))

    steps = by_id(dry_json(capsys, path)["steps"])

    assert steps["bugfix"]["condition"] == {
        "text": "{{ step.classify.response }} contains bug",
        "resolved": "<output of classify> contains bug", "decision": "at run time"}
    assert steps["staging"]["condition"]["decision"] == "runs"
    assert steps["prod"]["condition"]["resolved"] == "staging == prod"
    assert steps["prod"]["condition"]["decision"] == "skipped"
    assert steps["later"]["condition"]["decision"] == "skipped"

    assert main(["run", path, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert ("condition: {{ step.classify.response }} contains bug  ⇒  <output of classify> "
            "contains bug (decided at run time)") in out
    assert "(does not hold: skipped)" in out


INVALID = 'version: "0.1"\npipeline:\n  - id: a\n    context: {shell: "touch x"}\n  - id: a\n'


def test_an_invalid_pipeline_exits_1_with_its_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write(tmp_path, INVALID))

    assert main(["run", path, "--dry-run"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Step id 'a' appears more than once" in captured.err

    assert main(["run", path, "--dry-run", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["errors"]
    assert not (tmp_path / "x").exists()


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "nope.ail.yaml"), "--dry-run"]) == 2
    assert "could not be read" in capsys.readouterr().err


def test_secrets_never_show(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-very-secret-value")
    path = write(tmp_path, 'version: "0.1"\npipeline:\n  - id: leak\n'
                           '    prompt: "key={{ env.ANTHROPIC_API_KEY }}"\n')

    assert main(["run", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "prompt: key=***" in out and "sk-very-secret-value" not in out
