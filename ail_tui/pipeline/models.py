"""Typed models of the whole AIL file format (brief §1–§2).

Every field is optional at this level: shapes are checked here, the language's rules
are checked by :mod:`ail_tui.pipeline.validation`. Each model keeps the source
:class:`~ail_tui.pipeline.source.Marks` of the mapping it was read from, and unknown
keys stay available (``model_extra``) so validation can warn about them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    model_validator,
)

from ail_tui.pipeline.source import Marks, Position, YamlFloat, YamlInt, YamlSeq, marks_of


def _scalar_text(value: Any) -> Any:
    """String fields keep any scalar's source text, as the Rust loader does."""
    if isinstance(value, YamlInt | YamlFloat):
        return value.raw
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


Text = Annotated[str, BeforeValidator(_scalar_text)]
Number = int | float


class Node(BaseModel):
    """A model read from a YAML mapping; remembers where it came from."""

    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True,
                              defer_build=True)

    _marks: Marks | None = PrivateAttr(default=None)
    _items: dict[str, list[Position]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_marks(cls, data: Any, handler: Any) -> Any:
        node = handler(data)
        marks = marks_of(data)
        if marks is not None and isinstance(node, Node):
            node._marks = marks
            node._items = {
                key: value.marks.items for key, value in data.items() if isinstance(value, YamlSeq)
            }
        return node

    @property
    def marks(self) -> Marks | None:
        """Source marks of the mapping, when it was read from a file."""
        marks: Marks | None = self.__pydantic_private__["_marks"]  # type: ignore[index]
        return marks

    def pos(self, key: str | None = None) -> Position | None:
        """Where ``key``'s value is (or the mapping itself when ``key`` is None or absent)."""
        marks = self.marks
        if marks is None:
            return None
        return marks.at if key is None else marks.value(key)

    def key_pos(self, key: str) -> Position | None:
        """Where ``key`` itself is written."""
        marks = self.marks
        return None if marks is None else marks.key(key)

    def item_pos(self, key: str, index: int) -> Position | None:
        """Where item ``index`` of the sequence under ``key`` is."""
        marks = self.marks
        if marks is None:
            return None
        items: list[Position] | None = self.__pydantic_private__["_items"].get(  # type: ignore[index]
            key)
        if items and 0 <= index < len(items):
            return items[index]
        return marks.value(key)

    def extra_keys(self) -> list[str]:
        """Keys present in the file that this model does not know."""
        return list(self.model_extra or {})


class Sampling(Node):
    """Sampling parameters (brief §1)."""

    temperature: Number | None = None
    top_p: Number | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    stop_sequences: list[Text] | None = None
    thinking: bool | Number | None = None


class ToolPolicy(Node):
    """`tools:` — disable all tools, or allow / deny lists."""

    disabled: bool = False
    allow: list[Text] = Field(default_factory=list)
    deny: list[Text] = Field(default_factory=list)


class Provider(Node):
    """`defaults.provider` — model, endpoint and credentials."""

    model: Text | None = None
    base_url: Text | None = None
    auth_token: Text | None = None
    connect_timeout_seconds: int | None = None
    read_timeout_seconds: int | None = None
    max_history_messages: int | None = None
    input_cost_per_1k: Number | None = None
    output_cost_per_1k: Number | None = None
    sampling: Sampling | None = None


class Defaults(Node):
    """`defaults:` — pipeline-wide settings."""

    model: Text | None = None
    provider: Provider | None = None
    timeout_seconds: int | None = None
    tools: ToolPolicy | None = None
    max_concurrency: int | None = None
    sampling: Sampling | None = None
    on_error: Text | None = None


class ContextSource(Node):
    """`context:` — exactly one of `shell` or `spec`."""

    shell: Text | None = None
    spec: Text | None = None


class Reconcile(Node):
    """`reconcile:` (ail-tui, decisions D3) — the command that recovers the result of an
    attempt a crash left in flight, run on resume instead of the step's body."""

    shell: Text | None = None


class AppendPrompt(Node):
    """One `append_system_prompt` entry in map form: one of text, file, shell, spec."""

    text: Text | None = None
    file: Text | None = None
    shell: Text | None = None
    spec: Text | None = None


class ResultAction(Node):
    """The `if_true` / `if_false` arm of a single-match `on_result`."""

    action: Text | None = None
    message: Text | None = None
    prompt: Text | None = None


ExitCode = Annotated[
    Annotated[int, Tag("int")] | Annotated[Text, Tag("text")],
    Discriminator(lambda v: "int" if isinstance(v, int) and not isinstance(v, bool) else "text"),
]

MATCHER_KEYS = ("contains", "exit_code", "matches", "expression", "always", "starts_with",
                "is_empty")


class _Matchers(Node):
    """The matcher fields an ``on_result`` branch or switch may use (one at a time)."""

    contains: Text | None = None
    exit_code: ExitCode | None = None
    matches: Text | None = None
    expression: Text | None = None
    always: bool | None = None
    starts_with: Text | None = None
    is_empty: bool | None = None

    def written_matchers(self) -> list[str]:
        """The matcher keys written (a bare ``always:`` counts)."""
        return [key for key in MATCHER_KEYS if key in self.model_fields_set]


class ResultBranch(_Matchers):
    """One branch of list-form `on_result`: one matcher, an action, an optional prompt."""

    action: Text | None = None
    prompt: Text | None = None
    message: Text | None = None

    def matchers(self) -> list[str]:
        """The matcher keys written in this branch."""
        return self.written_matchers()


class ResultSwitch(_Matchers):
    """Map-form `on_result`: `field`/`equals` or one matcher, then `if_true` / `if_false`."""

    field: Text | None = None
    equals: Any = None
    if_true: ResultAction | None = None
    if_false: ResultAction | None = None

    def matchers(self) -> list[str]:
        """The matcher keys written (``field`` counts as one)."""
        found = self.written_matchers()
        if "field" in self.model_fields_set or "equals" in self.model_fields_set:
            found.insert(0, "field")
        return found


def _is_mapping(value: Any) -> str:
    """A mapping when read, its model when dumped."""
    return "map" if isinstance(value, dict | BaseModel) else "other"


class DoWhile(Node):
    """`do_while:` — repeat a body until `exit_when` holds."""

    max_iterations: int | None = None
    exit_when: Text | None = None
    steps: list[Step] | None = None
    pipeline: Text | None = None
    on_max_iterations: Text | None = None


class ForEach(Node):
    """`for_each:` — run a body once per item of a JSON array."""

    over: Text | None = None
    as_: Text | None = Field(default=None, alias="as")
    max_items: int | None = None
    on_max_items: Text | None = None
    steps: list[Step] | None = None
    pipeline: Text | None = None


class StepKind(StrEnum):
    """The primary field that makes a step what it is."""

    PROMPT = "prompt"
    SKILL = "skill"
    PIPELINE = "pipeline"
    ACTION = "action"
    CONTEXT = "context"
    DO_WHILE = "do_while"
    FOR_EACH = "for_each"


_PRIMARY = tuple((kind.value, kind) for kind in StepKind)

HOOK_KEYS = ("run_before", "run_after", "override", "disable")

ChainEntry = Annotated[
    Annotated["Step", Tag("map")] | Annotated[Text, Tag("other")],
    Discriminator(_is_mapping),
]
AppendEntry = Annotated[
    Annotated[AppendPrompt, Tag("map")] | Annotated[Text, Tag("other")],
    Discriminator(_is_mapping),
]
OnResult = Annotated[
    Annotated[list[ResultBranch], Tag("list")] | Annotated[ResultSwitch, Tag("map")],
    Discriminator(lambda v: "list" if isinstance(v, list) else "map"),
]


class Step(Node):
    """One pipeline step: every field of brief §2, all optional at this level."""

    _kind: tuple[StepKind | None] | None = PrivateAttr(default=None)

    id: Text | None = None
    # primary fields
    prompt: Text | None = None
    skill: Text | None = None
    pipeline: Text | None = None
    action: Text | None = None
    context: ContextSource | None = None
    do_while: DoWhile | None = None
    for_each: ForEach | None = None
    # control
    reconcile: Reconcile | None = None
    condition: Text | None = None
    disabled: bool = False
    on_error: Text | None = None
    max_retries: int | None = None
    on_result: OnResult | None = None
    before: list[ChainEntry] | None = None
    then: list[ChainEntry] | None = None
    # parallel (§29)
    async_: bool = Field(default=False, alias="async")
    depends_on: list[Text] | None = None
    # runner configuration
    runner: Text | None = None
    model: Text | None = None
    resume: bool = False
    system_prompt: Text | None = None
    append_system_prompt: list[AppendEntry] | None = None
    tools: ToolPolicy | None = None
    sampling: Sampling | None = None
    timeout_seconds: Number | None = None
    provider: Any = None
    # schemas
    output_schema: Any = None
    input_schema: Any = None
    # human gates
    message: Text | None = None
    on_headless: Text | None = None
    default_value: Text | None = None
    # FROM hook operations
    run_before: Text | None = None
    run_after: Text | None = None
    override: Text | None = None
    disable: Text | None = None

    def primary_fields(self) -> list[StepKind]:
        """The primary fields written; `prompt` beside `pipeline` overrides, not counts."""
        written = self.model_fields_set
        found = [
            kind for name, kind in _PRIMARY if name in written and getattr(self, name) is not None
        ]
        if StepKind.PIPELINE in found and StepKind.PROMPT in found:
            found.remove(StepKind.PROMPT)
        return found

    @property
    def kind(self) -> StepKind | None:
        """The step's kind when exactly one primary field is written (worked out once: a
        step is never changed once read)."""
        cached: tuple[StepKind | None] | None = self.__pydantic_private__[  # type: ignore[index]
            "_kind"]
        if cached is None:
            found = self.primary_fields()
            cached = (found[0] if len(found) == 1 else None,)
            self.__pydantic_private__["_kind"] = cached  # type: ignore[index]
        return cached[0]

    def hooks(self) -> list[tuple[str, str]]:
        """The FROM hook operations this step declares, as (operation, target)."""
        written = self.model_fields_set
        return [(op, getattr(self, op)) for op in HOOK_KEYS
                if op in written and getattr(self, op) is not None]

    @property
    def label(self) -> str:
        """How messages name this step: ``Step '<id>'``, or its line when it has no id."""
        if self.id is not None:
            return f"Step '{self.id}'"
        where = self.pos()
        return f"The step at line {where.line}" if where else "A step"

    @property
    def is_join(self) -> bool:
        """Whether this is an `action: join` step."""
        return self.action == "join"


class PipelineFile(Node):
    """A `.ail.yaml` document's top level; step lists stay raw until checked one by one."""

    version: Text | None = None
    FROM: Text | None = None
    defaults: Defaults | None = None
    pipeline: list[Any] | None = None
    pipelines: dict[str, Any] | None = None
    meta: Any = None
    providers: Any = None


