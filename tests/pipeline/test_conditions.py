"""The condition grammar and its evaluation (brief §5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ail_tui.pipeline.conditions import (
    Always,
    Comparison,
    Condition,
    ConditionSyntaxError,
    Never,
    Operator,
    evaluate,
    parse_condition,
    parse_exit_when,
    templates_in,
)
from ail_tui.pipeline.regex_literal import RegexLiteralError
from ail_tui.pipeline.templates import UnresolvedVariable, parse_template, render

Op = Operator


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("always", Always()),
        ("  always\n", Always()),
        ("never", Never()),
        ("{{ step.test.exit_code }} == 0", Comparison("{{ step.test.exit_code }}", Op.EQUAL, "0")),
        ("{{ step.test.exit_code }} != 0",
         Comparison("{{ step.test.exit_code }}", Op.NOT_EQUAL, "0")),
        ("{{ step.r.response }} contains 'LGTM'",
         Comparison("{{ step.r.response }}", Op.CONTAINS, "LGTM")),
        ('{{ step.r.response }} starts_with "PASS"',
         Comparison("{{ step.r.response }}", Op.STARTS_WITH, "PASS")),
        ("{{ step.r.response }} ends_with done.",
         Comparison("{{ step.r.response }}", Op.ENDS_WITH, "done.")),
        ("{{ env.TARGET }} == production", Comparison("{{ env.TARGET }}", Op.EQUAL, "production")),
        ("a==b", Comparison("a", Op.EQUAL, "b")),  # symbols need no spaces
        ("a!=b", Comparison("a", Op.NOT_EQUAL, "b")),
        ("a == b == c", Comparison("a", Op.EQUAL, "b == c")),  # the first occurrence splits
        ("a === b", Comparison("a", Op.EQUAL, "= b")),
        ("a\tcontains\tb", Comparison("a", Op.CONTAINS, "b")),
        ("a contains\nb", Comparison("a", Op.CONTAINS, "b")),
        # quotes: one matching outer pair is removed, after trimming
        ("x == 'a b'", Comparison("x", Op.EQUAL, "a b")),
        ("x == ' '", Comparison("x", Op.EQUAL, " ")),  # a space is not empty
        ("x == \"'a'\"", Comparison("x", Op.EQUAL, "'a'")),
        ("x == 'a\"", Comparison("x", Op.EQUAL, "'a\"")),  # unmatched quotes stay
        ("x == 'a", Comparison("x", Op.EQUAL, "'a")),
        ("x == '", Comparison("x", Op.EQUAL, "'")),
        ("x == {{ step.y.response }}", Comparison("x", Op.EQUAL, "{{ step.y.response }}")),
        ("always == always", Comparison("always", Op.EQUAL, "always")),
    ],
)
def test_parse(text: str, expected: Condition) -> None:
    assert parse_condition(text) == expected


@pytest.mark.parametrize(
    ("text", "op", "lhs", "rhs"),
    [
        # priority, not position: matches > starts_with > ends_with > contains > != > ==
        ("{{ a }} == x contains y", Op.CONTAINS, "{{ a }} == x", "y"),
        ("a contains b starts_with c", Op.STARTS_WITH, "a contains b", "c"),
        ("a starts_with b ends_with c", Op.STARTS_WITH, "a", "b ends_with c"),
        ("a ends_with b contains c", Op.ENDS_WITH, "a", "b contains c"),
        ("a == b != c", Op.NOT_EQUAL, "a == b", "c"),
        ("a contains b matches /c/", Op.MATCHES, "a contains b", "/c/"),
        # positions inside {{ … }} do not count
        ("x == {{ a contains b }}", Op.EQUAL, "x", "{{ a contains b }}"),
        ("{{ a == b }} != c", Op.NOT_EQUAL, "{{ a == b }}", "c"),
        ("{{ step.contains_test.response }} == yes", Op.EQUAL,
         "{{ step.contains_test.response }}", "yes"),
        ("{{ x }} contains {{ y matches z }}", Op.CONTAINS, "{{ x }}", "{{ y matches z }}"),
        ("{{ a }} }} == b", Op.EQUAL, "{{ a }} }}", "b"),
        ("{{ {{ a }} == b", Op.EQUAL, "{{ {{ a }}", "b"),
        ("{{ a }} == {{ b", Op.EQUAL, "{{ a }}", "{{ b"),  # the template check reports '{{ b'
        # word operators need whitespace or the ends of the text around them
        ("xcontainsy == 1", Op.EQUAL, "xcontainsy", "1"),
        ("a contains_all b != c", Op.NOT_EQUAL, "a contains_all b", "c"),
        ("a xmatches /b/ == c", Op.EQUAL, "a xmatches /b/", "c"),
        ("{{ a }}contains b == c", Op.EQUAL, "{{ a }}contains b", "c"),
        ("a contains{{ b }} == c", Op.EQUAL, "a contains{{ b }}", "c"),
        ("a\u00a0contains b == c", Op.EQUAL, "a\u00a0contains b", "c"),  # ASCII whitespace only
        ("a contains contains b", Op.CONTAINS, "a", "contains b"),
        ("containsx contains y", Op.CONTAINS, "containsx", "y"),
    ],
)
def test_operator_choice(text: str, op: Operator, lhs: str, rhs: str) -> None:
    condition = parse_condition(text)
    assert isinstance(condition, Comparison)
    assert (condition.op, condition.lhs, condition.rhs) == (op, lhs, rhs)


@pytest.mark.parametrize(
    ("text", "source", "flags"),
    [
        ("{{ step.lint.stdout }} matches /warning|error/i", "/warning|error/i", "i"),
        ("{{ step.t.response }} matches /\\d+ failed/", "/\\d+ failed/", ""),
        ("{{ step.t.response }} matches '/a b/'", "/a b/", ""),  # quotes are removed too
        ("x matches /a == b/", "/a == b/", ""),  # matches is found before ==
    ],
)
def test_matches_takes_a_regex_literal(text: str, source: str, flags: str) -> None:
    condition = parse_condition(text)
    assert isinstance(condition, Comparison) and condition.op is Op.MATCHES
    assert condition.regex is not None
    assert (condition.rhs, condition.regex.source, condition.regex.flags) == (source, source, flags)


NOT_RECOGNISED = ("is not a recognised named condition ('always', 'never') and does not contain "
                  "a supported operator (==, !=, contains, starts_with, ends_with, matches)")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("== 0", "condition '== 0' has an empty left-hand side"),
        ("  contains x", "empty left-hand side"),
        ("{{ a }} ==", "condition '{{ a }} ==' has an empty right-hand side"),
        ("x == ''", "empty right-hand side"),
        ('x != ""', "empty right-hand side"),
        ("x contains", "empty right-hand side"),
        ("x matches", "empty right-hand side ('matches' needs a regex literal"),
        ("x matches ''", "empty right-hand side"),
        ("==", "empty left-hand side"),
        ("sometimes", f"condition 'sometimes' {NOT_RECOGNISED}"),
        ("", f"condition '' {NOT_RECOGNISED}"),
        ("   ", NOT_RECOGNISED),
        ("Always", NOT_RECOGNISED),
        ("a = b", NOT_RECOGNISED),
        ("a > 3", NOT_RECOGNISED),
        ("a && b", NOT_RECOGNISED),
        ("xcontainsy", NOT_RECOGNISED),
        ("{{ a == b }}", NOT_RECOGNISED),
        ("{{ b == c", NOT_RECOGNISED),  # an unclosed '{{' hides the rest
        ("{{ x contains y", NOT_RECOGNISED),
        ("x matches /a/g", "condition 'x matches /a/g', 'matches' operator: regex literal "
                           "'/a/g' uses the 'g' flag"),
        ("x matches /a/x", "unsupported flag(s) 'x'"),
        ("x matches a", "must start with '/'"),
        ("x matches /a", "not terminated"),
        ("x matches //", "empty pattern"),
        ("x matches /(?<=a)b/", "failed to compile"),
        ("x matches /[a/", "failed to compile"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    assert message in str(info.value)


def test_regex_errors_keep_their_cause() -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition("x matches /a/g")
    assert isinstance(info.value.__cause__, RegexLiteralError)


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("{{ step.t.exit_code }} == 0", Op.EQUAL),
        ("{{ step.t.response }} contains done", Op.CONTAINS),
        ("{{ step.t.response }} matches /done/", Op.MATCHES),
    ],
)
def test_exit_when(text: str, op: Operator) -> None:
    assert parse_exit_when(text).op is op


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("always", "exit_when 'always' must be a comparison"),
        (" never ", "exit_when 'never' must be a comparison"),
        ("nonsense", NOT_RECOGNISED),
        ("== 1", "empty left-hand side"),
    ],
)
def test_exit_when_errors(text: str, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_exit_when(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "sides"),
    [
        ("always", []),
        ("never", []),
        ("{{ a }} == {{ b }}", ["{{ a }}", "{{ b }}"]),
        ("{{ a }} contains 'x {{ b }}'", ["{{ a }}", "x {{ b }}"]),
        ("{{ a }} matches /{{ b }}/", ["{{ a }}"]),  # the regex is not a template
    ],
)
def test_templates_in(text: str, sides: list[str]) -> None:
    assert templates_in(parse_condition(text)) == sides


# -- evaluation ------------------------------------------------------------------------------

VALUES = {
    "code": "0",
    "padded": "  0\n",
    "review": "Looks good. LGTM!",
    "multi": "line one\nPASS: 3 tests\n",
    "empty": "",
    "template": "{{ code }}",
}


def renderer(text: str) -> str:
    def resolve(name: str) -> str:
        if name not in VALUES:
            raise UnresolvedVariable(f"No response recorded for step '{name}'")
        return VALUES[name]

    return render(parse_template(text), resolve)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("always", True),
        ("never", False),
        ("{{ code }} == 0", True),
        ("{{ code }} == 1", False),
        ("{{ code }} != 0", False),
        ("{{ padded }} == 0", True),  # both sides are trimmed after rendering
        ("{{ code }} == ' 0 '", True),
        ("{{ code }} == {{ padded }}", True),  # the right side is templated too
        ("{{ review }} == looks good. lgtm!", False),  # == is exact
        ("{{ review }} != looks good. lgtm!", True),
        ("{{ review }} contains 'lgtm'", True),  # the word operators ignore case
        ("{{ review }} contains NOPE", False),
        ("{{ review }} starts_with LOOKS", True),
        ("{{ review }} starts_with good", False),
        ("{{ review }} ends_with 'LGTM!'", True),
        ("{{ review }} ends_with LGTM", False),
        ("{{ empty }} == ' '", True),  # ' ' renders to '' after trimming
        ("{{ empty }} contains ' '", True),
        ("{{ template }} == '{{ code }}'", False),  # rendered text is not rendered again
        ("{{ template }} == {{ template }}", True),
        ("{{ multi }} matches /^PASS/", False),
        ("{{ multi }} matches /^PASS/m", True),
        ("{{ multi }} matches /pass: \\d+/i", True),
        ("{{ multi }} matches /tests$/", True),  # the left side is trimmed first
        ("{{ review }} matches /LGTM/", True),
        ("{{ review }} matches /lgtm/", False),  # matches is case-sensitive by default
        ("plain text contains TEXT", True),
    ],
)
def test_evaluate(text: str, expected: bool) -> None:
    assert evaluate(parse_condition(text), renderer) is expected


def test_evaluate_passes_raw_sides_to_render() -> None:
    seen: list[str] = []

    def record(text: str) -> str:
        seen.append(text)
        return text

    evaluate(parse_condition("{{ a }}  ==  '{{ b }} '"), record)
    assert seen == ["{{ a }}", "{{ b }} "]
    seen.clear()
    evaluate(parse_condition("{{ a }} matches /x/"), record)
    assert seen == ["{{ a }}"]


@pytest.mark.parametrize("text", ["{{ missing }} == 0", "0 == {{ missing }}",
                                  "{{ missing }} matches /x/"])
def test_evaluate_propagates_resolution_errors(text: str) -> None:
    with pytest.raises(UnresolvedVariable, match="No response recorded for step 'missing'"):
        evaluate(parse_condition(text), renderer)


def test_named_conditions_do_not_render() -> None:
    def fail(text: str) -> str:
        raise AssertionError(text)

    assert evaluate(Always(), fail) is True
    assert evaluate(Never(), fail) is False


# -- properties ------------------------------------------------------------------------------

condition_text = st.lists(st.sampled_from(
    ["{{", "}}", " ", "a", "==", "!=", "=", "contains", "starts_with", "ends_with", "matches",
     "/", "/i", "/g", "'", '"', "\t", "always", "never", "(?=", "x"]
), max_size=12).map("".join) | st.text(max_size=40)


@given(condition_text)
def test_any_text_parses_or_raises_condition_syntax_error(text: str) -> None:
    try:
        condition = parse_condition(text)
    except ConditionSyntaxError as exc:
        assert str(exc)
    else:
        assert isinstance(condition, Always | Never | Comparison)
        if isinstance(condition, Comparison):
            assert condition.lhs and condition.rhs
            assert (condition.regex is not None) == (condition.op is Op.MATCHES)
            assert isinstance(evaluate(condition, lambda side: side), bool)


@given(condition_text)
def test_exit_when_parses_or_raises_condition_syntax_error(text: str) -> None:
    try:
        condition = parse_exit_when(text)
    except ConditionSyntaxError as exc:
        assert str(exc)
    else:
        assert isinstance(condition, Comparison)
