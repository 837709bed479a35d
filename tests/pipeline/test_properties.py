"""Property tests: any document, and any mutation of a real pipeline, gets a verdict."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ail_tui.pipeline.diagnostics import Diagnostic
from ail_tui.pipeline.loader import LoadResult
from ail_tui.pipeline.validation import check_file

ROOT = Path(__file__).resolve().parents[2]


def _loads(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8").replace("@@CASE_DIR@@", ".")
        return isinstance(yaml.safe_load(text), dict)
    except yaml.YAMLError:
        return False


REAL = [
    path
    for path in sorted((ROOT / "sample_pipelines").glob("*.ail.yaml"))
    + sorted((ROOT.parent / "shared" / "ail-cases").glob("*/*.yaml"))
    if _loads(path)
]
KEYS = ["id", "prompt", "context", "shell", "async", "depends_on", "action", "join",
        "on_result", "on_error", "max_retries", "condition", "do_while", "for_each",
        "steps", "pipeline", "version", "defaults", "max_concurrency", "output_schema",
        "exit_when", "over", "before", "then", "FROM", "pipelines", "sampling"]
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False),
    st.sampled_from(KEYS), st.text(max_size=12),
    st.sampled_from(["{{ step.a.response }}", "{{ x", "/re/g", "a == b", "join",
                     "fail_fast", "./missing.yaml", "never"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5),
    ),
    max_leaves=30,
)


def verdict(text: str) -> LoadResult:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.ail.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        result = check_file(path)
    assert isinstance(result.valid, bool)
    assert all(isinstance(d, Diagnostic) and d.detail for d in result.diagnostics)
    if not result.valid:
        assert result.errors
    return result


@SETTINGS
@given(st.text(max_size=300))
def test_any_text_gets_a_verdict(text: str) -> None:
    verdict(text.encode("utf-8", "replace").decode("utf-8"))


@SETTINGS
@given(documents)
def test_any_yaml_document_gets_a_verdict(document: Any) -> None:
    verdict(yaml.safe_dump(document, allow_unicode=True))


def _mutate(value: Any, data: st.DataObject, depth: int = 0) -> Any:
    choice = data.draw(st.integers(0, 5))
    if isinstance(value, dict) and value and choice < 4:
        key = data.draw(st.sampled_from(sorted(value, key=str)))
        copy = dict(value)
        if choice == 0:
            del copy[key]
        elif choice == 1:
            copy[key] = data.draw(documents)
        else:
            copy[key] = _mutate(copy[key], data, depth + 1)
        return copy
    if isinstance(value, list) and value and choice < 4:
        index = data.draw(st.integers(0, len(value) - 1))
        copy = list(value)
        if choice == 0:
            del copy[index]
        elif choice == 1:
            copy.insert(index, copy[index])
        else:
            copy[index] = _mutate(copy[index], data, depth + 1)
        return copy
    return data.draw(documents) if choice == 5 else value


@SETTINGS
@given(st.sampled_from(REAL), st.data())
def test_mutated_real_pipelines_get_a_verdict(path: Path, data: st.DataObject) -> None:
    original = yaml.safe_load(path.read_text(encoding="utf-8").replace("@@CASE_DIR@@", "."))
    mutated = _mutate(original, data)
    verdict(yaml.safe_dump(mutated, allow_unicode=True))
