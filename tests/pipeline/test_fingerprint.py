"""Pipeline content hashes and step fingerprints (decisions D2)."""

from __future__ import annotations

import hashlib
import os
import textwrap
from pathlib import Path

import pytest

from ail_tui.files import FileReadError
from ail_tui.pipeline.fingerprint import (
    FINGERPRINT_CHARS,
    pipeline_hash,
    step_fingerprints,
)
from ail_tui.pipeline.loader import Pipeline, load_pipeline


def write(directory: Path, text: str, name: str = "p.ail.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load(path: Path) -> Pipeline:
    pipeline = load_pipeline(path).pipeline
    assert pipeline is not None
    return pipeline


def prints(directory: Path, text: str, name: str = "p.ail.yaml") -> dict[str, str]:
    return step_fingerprints(load(write(directory, text, name)), cwd=directory)


BASE = """
    version: "1"
    defaults:
      model: m1
    pipeline:
      - id: a
        prompt: first
      - id: b
        prompt: "second {{ step.a.response }}"
        runner: stub
        sampling: {temperature: 0.5}
        on_result:
          - contains: ok
            action: continue
        then:
          - prompt: after
        reconcile: {shell: "cat b.txt"}
      - id: c
        for_each:
          over: "{{ step.b.response }}"
          steps:
            - id: inner
              prompt: "{{ for_each.item }}"
    """

REFORMATTED = """
    # the same pipeline, written differently
    version: '1'
    pipeline:
      - {prompt: first, id: a}   # flow style, keys swapped

      - id: b
        reconcile:
          shell: cat b.txt
        then: [{prompt: after}]
        on_result: [{action: continue, contains: ok}]
        sampling:
          temperature: 0.50
        runner: "stub"
        prompt: 'second {{ step.a.response }}'
      - id: c
        for_each: {steps: [{id: inner, prompt: "{{ for_each.item }}"}],
                   over: "{{ step.b.response }}"}
    defaults: {model: "m1"}
    """


def test_pipeline_hash_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    data = path.read_bytes()
    expected = hashlib.sha256(data).hexdigest()
    assert pipeline_hash(path) == pipeline_hash(str(path.read_text(encoding="utf-8")))
    assert pipeline_hash(path) == pipeline_hash(data) == expected
    assert len(expected) == 64
    with pytest.raises(FileReadError):
        pipeline_hash(tmp_path / "missing.ail.yaml")


def test_every_top_level_step_with_an_id_has_a_short_fingerprint(tmp_path: Path) -> None:
    found = prints(tmp_path, BASE)
    assert list(found) == ["a", "b", "c"]
    for value in found.values():
        assert len(value) == FINGERPRINT_CHARS
        int(value, 16)
    assert len(set(found.values())) == 3
    assert prints(tmp_path, BASE) == found  # stable


def test_formatting_key_order_and_comments_do_not_matter(tmp_path: Path) -> None:
    first = write(tmp_path, BASE, "one.ail.yaml")
    second = write(tmp_path, REFORMATTED, "two.ail.yaml")
    assert pipeline_hash(first) != pipeline_hash(second)
    assert step_fingerprints(load(first)) == step_fingerprints(load(second))


def test_moving_a_step_keeps_every_fingerprint(tmp_path: Path) -> None:
    step_a = "      - id: a\n        prompt: first\n"
    moved = BASE.replace(step_a, "").replace("      - id: c\n", step_a + "      - id: c\n")
    assert moved != BASE
    assert prints(tmp_path, moved) == prints(tmp_path, BASE)


# (id, text replaced in BASE, its replacement, the steps whose fingerprint changes)
CHANGES = [
    ("prompt", "second {{", "2nd {{", {"b"}),
    ("runner", "runner: stub", "runner: claude", {"b"}),
    ("model", "runner: stub", "runner: stub\n    model: opus", {"b"}),
    ("sampling", "temperature: 0.5", "temperature: 0.7", {"b"}),
    ("on-result-matcher", "contains: ok", "contains: fine", {"b"}),
    ("on-result-action", "action: continue", "action: break", {"b"}),
    ("chain", "- prompt: after", "- prompt: later", {"b"}),
    ("reconcile", '"cat b.txt"', '"cat b2.txt"', {"b"}),
    ("async", "runner: stub", "runner: stub\n    async: true", {"b"}),
    ("a-default-written-out", "runner: stub", "runner: stub\n    resume: false", {"b"}),
    ("condition", "prompt: first", "prompt: first\n    condition: never", {"a"}),
    ("on-error", "prompt: first",
     "prompt: first\n    on_error: retry\n    max_retries: 2", {"a"}),
    ("schema", "prompt: first", "prompt: first\n    output_schema: {type: object}", {"a"}),
    ("loop-body", 'prompt: "{{ for_each.item }}"', 'prompt: "item {{ for_each.item }}"',
     {"c"}),
    ("loop-field", "over: ", "max_items: 3\n      over: ", {"c"}),
    ("default-model", "model: m1", "model: m2", {"a", "b", "c"}),
    ("default-provider", "model: m1", "model: m1\n  provider: {model: m3}", {"a", "b", "c"}),
    ("default-sampling", "model: m1", "model: m1\n  sampling: {top_k: 3}", {"a", "b", "c"}),
    ("default-tools", "model: m1", "model: m1\n  tools: {disabled: true}", {"a", "b", "c"}),
    ("max-concurrency", "model: m1", "model: m1\n  max_concurrency: 4", set()),
    ("auth-token", "model: m1", "model: m1\n  provider: {auth_token: s3cret}", set()),
    ("unknown-key", "prompt: first", "prompt: first\n    note: ignored by the engine", set()),
    ("version", 'version: "1"', 'version: "2"', set()),
]


@pytest.mark.parametrize(("old", "new", "changed"), [c[1:] for c in CHANGES],
                         ids=[c[0] for c in CHANGES])
def test_a_change_changes_the_fingerprints_it_should(tmp_path: Path, old: str, new: str,
                                                     changed: set[str]) -> None:
    before = prints(tmp_path, BASE)
    text = textwrap.dedent(BASE)
    assert old in text
    after = prints(tmp_path, text.replace(old, new, 1))
    assert {step for step in before if before[step] != after[step]} == changed


NAMED = """
    version: "1"
    pipeline:
      - id: direct
        pipeline: review
      - id: looped
        do_while:
          max_iterations: 2
          exit_when: "{{ step.looped::go.response }} == done"
          steps:
            - id: go
              pipeline: outer
      - id: other
        prompt: hi
    pipelines:
      review:
        - id: r
          prompt: review it
      outer:
        - id: o
          pipeline: inner
      inner:
        - id: i
          prompt: inner work
    """


@pytest.mark.parametrize(("old", "new", "changed"), [
    ("review it", "review it twice", {"direct"}),
    ("inner work", "inner job", {"looped"}),
], ids=["called-directly", "called-through-a-loop-and-another-named-pipeline"])
def test_named_pipelines_count_for_the_steps_that_call_them(
    tmp_path: Path, old: str, new: str, changed: set[str]
) -> None:
    before = prints(tmp_path, NAMED)
    after = prints(tmp_path, NAMED.replace(old, new))
    assert {step for step in before if before[step] != after[step]} == changed


FILES = """
    version: "1"
    pipeline:
      - id: sub
        pipeline: ./child.ail.yaml
      - id: loop
        for_each:
          over: "[1]"
          pipeline: ./body.ail.yaml
      - id: prompted
        prompt: ./prompt.md
      - id: bare
        pipeline: bare.ail.yaml
      - id: templated
        pipeline: "./{{ step.prompted.response }}.ail.yaml"
      - id: appended
        prompt: hi
        append_system_prompt:
          - file: extra.md
      - id: branching
        prompt: hi
        on_result:
          - always: true
            action: "pipeline: ./fix.ail.yaml"
      - id: plain
        prompt: hi
    """

CHILD = 'version: "1"\npipeline:\n  - id: x\n    prompt: "{}"\n'


@pytest.mark.parametrize(("name", "changed"), [
    ("child.ail.yaml", {"sub"}),
    ("body.ail.yaml", {"loop"}),
    ("prompt.md", {"prompted"}),
    ("bare.ail.yaml", {"bare"}),
    ("nested.md", {"sub"}),
    ("extra.md", {"appended"}),
    ("fix.ail.yaml", {"branching"}),
])
def test_editing_a_file_a_step_reads_changes_that_step(tmp_path: Path, name: str,
                                                       changed: set[str]) -> None:
    write(tmp_path, CHILD.replace('"{}"', "./nested.md"), "child.ail.yaml")
    for other in ("body.ail.yaml", "bare.ail.yaml", "fix.ail.yaml"):
        write(tmp_path, CHILD.format("one"), other)
    for text_file in ("prompt.md", "nested.md", "extra.md"):
        write(tmp_path, "say hi\n", text_file)
    before = prints(tmp_path, FILES)
    path = tmp_path / name
    path.write_text(path.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    after = prints(tmp_path, FILES)
    assert {step for step in before if before[step] != after[step]} == changed


def test_a_missing_child_changes_the_step_once_it_appears(tmp_path: Path) -> None:
    text = 'version: "1"\npipeline:\n  - id: sub\n    pipeline: ./child.ail.yaml\n'
    missing = prints(tmp_path, text)
    assert prints(tmp_path, text) == missing
    write(tmp_path, CHILD.format("one"), "child.ail.yaml")
    assert prints(tmp_path, text) != missing


def test_special_files_are_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.md")
    text = ('version: "1"\npipeline:\n  - id: a\n    prompt: ./fifo.md\n'
            "    append_system_prompt:\n      - file: fifo.md\n"
            "  - id: b\n    pipeline: ./fifo.md\n")
    assert list(prints(tmp_path, text)) == ["a", "b"]  # returns, does not block


def test_a_pipeline_calling_its_own_file_is_hashed_once(tmp_path: Path) -> None:
    text = 'version: "1"\npipeline:\n  - id: again\n    pipeline: ./p.ail.yaml\n'
    assert list(prints(tmp_path, text)) == ["again"]


def test_a_child_inherits_its_from_base_into_the_hash(tmp_path: Path) -> None:
    write(tmp_path, CHILD.format("base"), "base.ail.yaml")
    write(tmp_path, 'FROM: ./base.ail.yaml\npipeline:\n  - id: y\n    prompt: more\n',
          "child.ail.yaml")
    text = 'version: "1"\npipeline:\n  - id: sub\n    pipeline: ./child.ail.yaml\n'
    before = prints(tmp_path, text)
    write(tmp_path, CHILD.format("changed base"), "base.ail.yaml")
    assert prints(tmp_path, text) != before


def test_duplicate_ids_take_the_first_step(tmp_path: Path) -> None:
    one = prints(tmp_path, 'version: "1"\npipeline:\n  - id: a\n    prompt: x\n')
    two = prints(tmp_path, 'version: "1"\npipeline:\n  - id: a\n    prompt: x\n'
                           '  - id: a\n    prompt: y\n')
    assert one == two


def test_files_hash_changes_with_a_read_file_or_a_base_but_not_with_the_steps(
        tmp_path: Path) -> None:
    from ail_tui.pipeline.fingerprint import files_hash

    (tmp_path / "base.ail.yaml").write_text(
        'version: "1"\npipeline:\n  - id: inherited\n    prompt: hi\n', encoding="utf-8")
    (tmp_path / "ask.md").write_text("Ask nicely.\n", encoding="utf-8")
    main = tmp_path / "p.ail.yaml"
    main.write_text('FROM: ./base.ail.yaml\nversion: "1"\npipeline:\n'
                    "  - id: a\n    prompt: ./ask.md\n", encoding="utf-8")

    def now() -> str:
        return files_hash(load(main), cwd=tmp_path)

    first = now()
    assert now() == first
    (tmp_path / "ask.md").write_text("Ask kindly.\n", encoding="utf-8")
    second = now()
    assert second != first
    (tmp_path / "base.ail.yaml").write_text(
        'version: "1"\npipeline:\n  - id: inherited\n    prompt: hello\n', encoding="utf-8")
    assert now() != second
