"""Templates: ``{{ … }}`` syntax, the default filter, rendering and variable kinds (brief §4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ail_tui.pipeline.templates import (
    Placeholder,
    Template,
    TemplateSyntaxError,
    UnresolvedVariable,
    VariableKind,
    VariableRef,
    parse_template,
    parse_variable,
    render,
)

# -- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", ()),
        ("plain text", ("plain text",)),
        ("{{ last_response }}",
         (Placeholder("last_response", "last_response", None, 0, 19),)),
        ("a {{x}} b", ("a ", Placeholder("x", "x", None, 2, 7), " b")),
        ("{{  step.a.response\n }}!",
         (Placeholder("step.a.response", "step.a.response", None, 0, 23), "!")),
        ("{{a}}{{b}}", (Placeholder("a", "a", None, 0, 5), Placeholder("b", "b", None, 5, 10))),
        # the next '}}' closes: no nesting, no escapes
        ("{{ a {{ b }} c }}", (Placeholder("a {{ b", "a {{ b", None, 0, 12), " c }}")),
        ("{{ a }}}", (Placeholder("a", "a", None, 0, 7), "}")),
        ("{{{ a }}", (Placeholder("{ a", "{ a", None, 0, 8),)),
        ("}} alone {", ("}} alone {",)),
        ("\\{{ a }}", ("\\", Placeholder("a", "a", None, 1, 8))),
    ],
)
def test_parse_parts(text: str, parts: tuple[str | Placeholder, ...]) -> None:
    template = parse_template(text)
    assert template == Template(text, parts)
    for placeholder in template.placeholders:
        assert text[placeholder.start : placeholder.start + 2] == "{{"
        assert text[placeholder.end - 2 : placeholder.end] == "}}"


@pytest.mark.parametrize(
    ("text", "variable", "default"),
    [
        ('{{ env.X | default("y") }}', "env.X", "y"),
        ("{{ env.X | default('y') }}", "env.X", "y"),
        ('{{env.X|default("y")}}', "env.X", "y"),
        ('{{ env.X  |  default (  "two words"  ) }}', "env.X", "two words"),
        ('{{ env.X | default("") }}', "env.X", ""),
        ('{{ env.X | default("it\'s") }}', "env.X", "it's"),
        ("{{ env.X | default('say \"hi\"') }}", "env.X", 'say "hi"'),
        ('{{ env.X | default("a|b") }}', "env.X", "a|b"),
        ('{{ step.a.response | default("line\nbreak") }}', "step.a.response", "line\nbreak"),
    ],
)
def test_default_filter(text: str, variable: str, default: str) -> None:
    (placeholder,) = parse_template(text).placeholders
    assert (placeholder.variable, placeholder.default) == (variable, default)
    assert placeholder.expression == text[2:-2].strip()


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("{{", 0, "Found '{{' without matching '}}'"),
        ("abc {{ x", 4, "Found '{{' without matching '}}'"),
        ("{{ a }} and {{ b }", 12, "Found '{{' without matching '}}'"),
        ("x {{ }}", 2, "empty '{{ }}'"),
        ("{{}}", 0, "empty '{{ }}'"),
        ("ok {{ a }} {{ env.X | default(y) }}", 11, "malformed default filter"),
        ("{{ env.X | default(\"y') }}", 0, "malformed default filter"),
        ("{{ env.X | default() }}", 0, "malformed default filter"),
        ('{{ env.X | default("a", "b") }}', 0, "malformed default filter"),
        ('{{ env.X | default("a") | default("b") }}', 0, "malformed default filter"),
        ('{{ env.X | default "a" }}', 0, "malformed default filter"),
        ("{{ env.X | upper }}", 0, "unknown filter 'upper'; the only filter is default"),
        ('{{ env.X | lower("a") }}', 0, "unknown filter 'lower'"),
        ("{{ a || b }}", 0, "unknown filter '| b'"),
        ("{{ env.X | }}", 0, "nothing after '|'"),
        ('{{ | default("y") }}', 0, "no variable before '|'"),
        # '}}' inside the default ends the placeholder early
        ('{{ env.X | default("}}") }}', 0, "malformed default filter"),
    ],
)
def test_syntax_errors(text: str, offset: int, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        parse_template(text)
    assert info.value.offset == offset
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_filter_message_shows_the_placeholder() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        parse_template("{{ env.X | upper }}")
    assert str(info.value).startswith("'{{ env.X | upper }}' uses the unknown filter")


# -- rendering -------------------------------------------------------------------------------

VALUES = {"a": "A", "b": "B", "loop": "{{ a }}", "empty": ""}


def resolve(name: str) -> str:
    if name in VALUES:
        return VALUES[name]
    raise UnresolvedVariable(f"'{{{{ {name} }}}}' has no value")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("no placeholders", "no placeholders"),
        ("{{ a }}", "A"),
        ("<{{a}}|{{ b }}>", "<A|B>"),
        ("{{ empty }}!", "!"),
        ("{{ loop }}", "{{ a }}"),  # substituted text is never scanned again
        ("{{ loop }}{{ b }}", "{{ a }}B"),
        ('{{ missing | default("fallback") }}', "fallback"),
        ("{{ missing | default('') }}", ""),
        ('{{ a | default("unused") }}', "A"),
        ('{{ empty | default("unused") }}', ""),  # an empty value is a value
    ],
)
def test_render(text: str, expected: str) -> None:
    assert render(parse_template(text), resolve) == expected


def test_default_cannot_contain_closing_braces() -> None:
    # the first '}}' closes the placeholder, leaving an unterminated default
    with pytest.raises(TemplateSyntaxError, match="malformed default filter"):
        parse_template('{{ missing | default("{{ a }}") }}')


def test_render_default_text_is_not_rescanned() -> None:
    template = parse_template('{{ missing | default("{ a }") }}')
    assert render(template, resolve) == "{ a }"


def test_render_without_default_reraises() -> None:
    with pytest.raises(UnresolvedVariable, match=r"'\{\{ missing \}\}' has no value"):
        render(parse_template("x {{ missing }} y"), resolve)


def test_render_passes_the_variable_not_the_expression() -> None:
    seen: list[str] = []

    def record(name: str) -> str:
        seen.append(name)
        return name.upper()

    text = 'x{{ a }}{{ env.HOME | default("~") }}'
    assert render(parse_template(text), record) == "xAENV.HOME"
    assert seen == ["a", "env.HOME"]


def test_render_other_errors_propagate_even_with_default() -> None:
    def broken(name: str) -> str:
        raise RuntimeError(name)

    with pytest.raises(RuntimeError):
        render(parse_template('{{ a | default("x") }}'), broken)


def test_unresolved_variable_is_a_lookup_error_with_its_message() -> None:
    error = UnresolvedVariable("Environment variable 'X' is not set")
    assert isinstance(error, LookupError)
    assert str(error) == "Environment variable 'X' is not set"


# -- variables -------------------------------------------------------------------------------

K = VariableKind


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("step.invocation.prompt",
         VariableRef("step.invocation.prompt", K.INVOCATION_PROMPT, "invocation", "prompt")),
        ("step.invocation.response",
         VariableRef("step.invocation.response", K.INVOCATION_RESPONSE, "invocation",
                     "response")),
        ("last_response", VariableRef("last_response", K.LAST_RESPONSE)),
        ("  last_response ", VariableRef("last_response", K.LAST_RESPONSE)),
        ("session.tool", VariableRef("session.tool", K.SESSION_TOOL)),
        ("session.cwd", VariableRef("session.cwd", K.SESSION_CWD)),
        ("pipeline.run_id", VariableRef("pipeline.run_id", K.PIPELINE_RUN_ID)),
        ("env.HOME", VariableRef("env.HOME", K.ENV, env_name="HOME")),
        ("env.A.B", VariableRef("env.A.B", K.ENV, env_name="A.B")),
        ("do_while.iteration", VariableRef("do_while.iteration", K.DO_WHILE, field="iteration")),
        ("do_while.max_iterations",
         VariableRef("do_while.max_iterations", K.DO_WHILE, field="max_iterations")),
        ("for_each.index", VariableRef("for_each.index", K.FOR_EACH, field="index")),
        ("for_each.total", VariableRef("for_each.total", K.FOR_EACH, field="total")),
        ("for_each.item", VariableRef("for_each.item", K.FOR_EACH, field="item")),
        ("for_each.task", VariableRef("for_each.task", K.FOR_EACH, field="task")),
        ("step.lint.response", VariableRef("step.lint.response", K.STEP, "lint", "response")),
        ("step.invocation.result",
         VariableRef("step.invocation.result", K.STEP, "invocation", "result")),
        ("step.loop::inner.exit_code",
         VariableRef("step.loop::inner.exit_code", K.STEP, "loop::inner", "exit_code")),
        ("step.a::before::0.response",
         VariableRef("step.a::before::0.response", K.STEP, "a::before::0", "response")),
        ("step.checks_done.lint.clean",
         VariableRef("step.checks_done.lint.clean", K.STEP, "checks_done",
                     path=("lint", "clean"))),
        ("step.join.lint.response",
         VariableRef("step.join.lint.response", K.STEP, "join", path=("lint", "response"))),
        ("step.loop::j.a.b",
         VariableRef("step.loop::j.a.b", K.STEP, "loop::j", path=("a", "b"))),
    ],
)
def test_parse_variable(name: str, expected: VariableRef) -> None:
    assert parse_variable(name) == expected


@pytest.mark.parametrize(
    "field",
    ["response", "result", "stdout", "stderr", "exit_code", "modified", "index", "items",
     "tool_calls"],
)
def test_every_step_field(field: str) -> None:
    ref = parse_variable(f"step.s.{field}")
    assert (ref.kind, ref.step_id, ref.field, ref.path) == (K.STEP, "s", field, ())


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("foo.bar", "'{{ foo.bar }}' is not a recognised template variable"),
        ("", "'{{  }}' is not a recognised template variable"),
        ("last_response.x", "is not a recognised template variable"),
        ("session", "is not a recognised template variable"),
        ("session.other", "is not a recognised template variable"),
        ("pipeline.id", "is not a recognised template variable"),
        ("env.", "(write env.<NAME>)"),
        ("env", "is not a recognised template variable"),
        ("do_while.index", "(do_while offers iteration and max_iterations)"),
        ("do_while", "do_while offers"),
        ("for_each.item.name", "for_each offers index, total, item and the loop's 'as' name"),
        ("for_each", "for_each offers"),
        ("for_each.", "for_each offers"),
        ("step", "is not a recognised template variable"),
        ("step.", "(write step.<id>.<field>)"),
        ("step.lint", "(write step.<id>.<field>)"),
        ("step.classify.category", "'category' is not a step field; fields are exit_code,"),
        ("step.a.", "empty part between dots"),
        ("step..response", "empty part between dots"),
        ("step.a..b.c", "empty part between dots"),
    ],
)
def test_unknown_variables(name: str, problem: str) -> None:
    ref = parse_variable(name)
    assert ref.kind is K.UNKNOWN
    assert ref.problem is not None and problem in ref.problem
    assert ref.problem.startswith(f"'{{{{ {name.strip()} }}}}' is not a recognised template ")


def test_parse_variable_gives_kind_names_for_validators() -> None:
    assert [kind.name for kind in K] == [
        "INVOCATION_PROMPT", "INVOCATION_RESPONSE", "LAST_RESPONSE", "SESSION_TOOL",
        "SESSION_CWD", "PIPELINE_RUN_ID", "ENV", "DO_WHILE", "FOR_EACH", "STEP", "UNKNOWN"]


# -- properties ------------------------------------------------------------------------------

template_text = st.lists(st.sampled_from(
    ["{{", "}}", "{", "}", "|", " ", "a", "env.X", "default", "(", ")", '"', "'", "\n", "é"]
), max_size=30).map("".join) | st.text(max_size=60)


@given(template_text)
def test_any_text_parses_or_raises_template_syntax_error(text: str) -> None:
    try:
        template = parse_template(text)
    except TemplateSyntaxError as exc:
        assert 0 <= exc.offset < len(text)
        assert text.startswith("{{", exc.offset)
    else:
        # without substitution the parts give back the source
        rebuilt = "".join(
            part if isinstance(part, str) else text[part.start : part.end]
            for part in template.parts
        )
        assert rebuilt == text
        assert render(template, lambda name: name) == "".join(
            part if isinstance(part, str) else part.variable for part in template.parts
        )


@given(st.text(max_size=40))
def test_any_name_gets_a_kind(name: str) -> None:
    ref = parse_variable(name)
    assert isinstance(ref.kind, VariableKind)
    assert (ref.problem is not None) == (ref.kind is K.UNKNOWN)


@given(st.text(max_size=20))
def test_substituted_values_are_never_rescanned(value: str) -> None:
    template = parse_template("<{{ a }}>{{ b }}")
    assert render(template, lambda name: value) == f"<{value}>{value}"
