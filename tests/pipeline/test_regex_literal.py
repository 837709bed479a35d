"""Regex literals ``/P/F`` (brief §5, decisions L5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ail_tui.pipeline.regex_literal import RegexLiteral, RegexLiteralError, parse_regex_literal


@pytest.mark.parametrize(
    ("text", "source", "pattern", "flags"),
    [
        ("/warn|error/", "/warn|error/", "warn|error", ""),
        ("  /pass/i  ", "/pass/i", "pass", "i"),
        ("/^a.b$/ims", "/^a.b$/ims", "^a.b$", "ims"),
        ("/a/b/", "/a/b/", "a/b", ""),  # the last '/' closes; earlier ones are pattern
        ("/a/b/i", "/a/b/i", "a/b", "i"),
        ("/a/1/", "/a/1/", "a/1", ""),
        ("/foo\\/bar/", "/foo\\/bar/", "foo/bar", ""),  # \/ is a literal slash
        ("/\\d{3}/", "/\\d{3}/", "\\d{3}", ""),  # other escapes reach RE2 untouched
        ("/(?i)pass/", "/(?i)pass/", "(?i)pass", ""),
        ("/a/ii", "/a/ii", "a", "ii"),
        ("/ü+/", "/ü+/", "ü+", ""),
    ],
)
def test_valid_literals(text: str, source: str, pattern: str, flags: str) -> None:
    literal = parse_regex_literal(text)
    assert (literal.source, literal.pattern, literal.flags) == (source, pattern, flags)


@pytest.mark.parametrize(
    ("text", "subject", "expected"),
    [
        ("/warn|error/", "an error here", True),
        ("/warn|error/", "all fine", False),
        ("/PASS/", "tests PASSED", True),  # unanchored search
        ("/PASS/", "pass", False),  # case-sensitive by default
        ("/pass/i", "PASS", True),
        ("/^PASS$/", "PASS", True),
        ("/^PASS$/", "PASSED", False),
        ("/^foo/", "bar\nfoo", False),  # without m, ^ is the start of the text only
        ("/^foo/m", "bar\nfoo", True),
        ("/bar$/m", "bar\nfoo", True),
        ("/^pass$/im", "warning\nPASS", True),
        ("/a.b/", "a\nb", False),
        ("/a.b/s", "a\nb", True),
        ("/foo\\/bar/", "x foo/bar y", True),
        ("/a/b/i", "A/B", True),
        ("/\\d+ failed/", "3 failed, 10 passed", True),
        ("/\\d+ failed/", "all passed", False),
        ("/(a+)+$/", "a" * 5000 + "b", False),  # linear time: no catastrophic backtracking
    ],
)
def test_search(text: str, subject: str, expected: bool) -> None:
    assert parse_regex_literal(text).search(subject) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("warn/", "must start with '/', got 'warn/'"),
        ("", "must start with '/'"),
        ("/", "is not terminated (missing closing '/')"),
        ("/foo", "'/foo' is not terminated"),
        ("/foo/ i", "is not terminated"),  # a tail that is not all letters is pattern text
        ("/a/1x", "is not terminated"),
        ("//", "'//' has an empty pattern"),
        ("//i", "has an empty pattern"),
        ("/warn/g", "'g' flag"),
        ("/warn/gi", "'g' flag"),
        ("/warn/ig", "uses the 'g' flag, which is not supported"),
        ("/warn/x", "unsupported flag(s) 'x'"),
        ("/warn/ixu", "unsupported flag(s) 'xu'"),
        ("/a/b/x", "unsupported flag(s) 'x'"),
        ("/[unclosed/", "'/[unclosed/' failed to compile: missing ]"),
        ("/(a/m", "failed to compile: missing ): (a"),  # the (?m) prefix is not shown
        ("/(?=a)b/", "failed to compile"),
        ("/(?<=a)b/", "RE2 has no look-around or back-references"),
        ("/(?!a)b/", "no look-around"),
        ("/(a)\\1/", "no look-around or back-references"),
        ("/a{1001}/", "failed to compile"),
        ("/(?x) a/", "failed to compile"),  # RE2 has no verbose mode
        ("/a\\/", "failed to compile"),  # the closing slash cannot be escaped away
        ("/\ud800/", "not valid Unicode"),
    ],
)
def test_invalid_literals(text: str, message: str) -> None:
    with pytest.raises(RegexLiteralError) as info:
        parse_regex_literal(text)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_compile_errors_are_not_logged(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RegexLiteralError):
        parse_regex_literal("/(?<=x)y/")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    ("flags", "ignore_case", "multi_line", "dot_all"),
    [("", False, False, False), ("i", True, False, False), ("ms", False, True, True)],
)
def test_flag_properties(flags: str, ignore_case: bool, multi_line: bool, dot_all: bool) -> None:
    literal = parse_regex_literal(f"/x/{flags}")
    assert (literal.ignore_case, literal.multi_line, literal.dot_all) == (
        ignore_case, multi_line, dot_all)


def test_literal_is_frozen_and_compares_by_text() -> None:
    literal = parse_regex_literal("/a/i")
    assert literal == RegexLiteral("/a/i", "a", "i")
    with pytest.raises(AttributeError):
        literal.pattern = "b"  # type: ignore[misc]


def test_direct_construction_compiles() -> None:
    assert RegexLiteral("/a+/", "a+", "").search("baa")
    with pytest.raises(RegexLiteralError, match="failed to compile"):
        RegexLiteral("/(/", "(", "")


def test_search_tolerates_lone_surrogates() -> None:
    assert parse_regex_literal("/b/").search("a\ud800b")


@given(st.text(max_size=40) | st.text(alphabet="/\\ims gx(?=)[]a.^$*+\n", max_size=20))
def test_any_text_parses_or_raises_regex_literal_error(text: str) -> None:
    try:
        literal = parse_regex_literal(text)
    except RegexLiteralError as exc:
        assert str(exc)
    else:
        assert literal.source == text.strip()
        assert isinstance(literal.search(text), bool)

