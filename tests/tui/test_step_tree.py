"""The steps tree model (issue 14): parents, order, folds, filters, summaries — no Textual."""

from __future__ import annotations

import pytest

from ail_tui.tui.step_tree import StepTree, parent_of, summarise

ROWS = ["plan", "polish", "sub", "done", "plan::before::0", "plan::then::0", "polish::lint",
        "polish::note", "sub::fetch", "sub::inner", "sub::inner::x", "sub::check"]
"""A run view's order: the plan's rows, then inner rows as they appeared."""
STATUS = {"plan": "done", "polish": "running", "sub": "failed", "done": "pending",
          "plan::before::0": "done", "plan::then::0": "done", "polish::lint": "done",
          "polish::note": "running", "sub::fetch": "done", "sub::inner": "failed",
          "sub::inner::x": "failed", "sub::check": "cancelled"}


def tree(rows: list[str] = ROWS, **settings: object) -> StepTree:
    made = StepTree()
    made.set_rows(rows)
    for name, value in settings.items():
        setattr(made, name, value)
    made.rebuild(STATUS.__getitem__)
    return made


@pytest.mark.parametrize(("step_id", "rows", "parent"), [
    ("plan::before::0", {"plan"}, "plan"),
    ("plan::then::12", {"plan"}, "plan"),
    ("loop::inner::then::0", {"loop", "loop::inner"}, "loop::inner"),
    ("outer::inner::x", {"outer", "outer::inner"}, "outer::inner"),
    ("outer::inner::x", {"outer"}, None),  # the prefix is not a row: top level
    ("polish::lint", {"polish"}, "polish"),
    ("polish::lint", set(), None),
    ("plain", {"plain"}, None),
    ("a::before::x", {"a", "a::before"}, "a::before"),  # not a chain index
])
def test_the_parent_of_an_id(step_id: str, rows: set[str], parent: str | None) -> None:
    assert parent_of(step_id, rows) == parent


@pytest.mark.parametrize(("settings", "visible"), [
    ({}, ["plan", "plan::before::0", "plan::then::0", "polish", "polish::lint",
          "polish::note", "sub", "sub::fetch", "sub::inner", "sub::inner::x", "sub::check",
          "done"]),
    ({"collapsed": {"plan", "sub"}}, ["plan", "polish", "polish::lint", "polish::note", "sub",
                                      "done"]),
    ({"collapsed": {"sub::inner"}}, ["plan", "plan::before::0", "plan::then::0", "polish",
                                     "polish::lint", "polish::note", "sub", "sub::fetch",
                                     "sub::inner", "sub::check", "done"]),
    ({"status_view": "failed only"}, ["sub", "sub::inner", "sub::inner::x"]),
    ({"status_view": "running only"}, ["polish", "polish::note"]),
    ({"status_view": "failed first"}, ["sub", "sub::inner", "sub::inner::x", "sub::fetch",
                                       "sub::check", "plan", "plan::before::0",
                                       "plan::then::0", "polish", "polish::lint",
                                       "polish::note", "done"]),
    ({"name_filter": "X"}, ["sub", "sub::inner", "sub::inner::x"]),  # keeps its ancestors
    ({"name_filter": "then"}, ["plan", "plan::then::0"]),
    ({"name_filter": "note", "status_view": "failed only"}, []),
    ({"name_filter": "nothing"}, []),
])
def test_visible_rows_in_order(settings: dict[str, object], visible: list[str]) -> None:
    made = tree(**settings)
    assert made.visible == visible
    assert made.index == {step: i for i, step in enumerate(visible)}


def test_inner_rows_go_right_after_their_parents_subtree_not_at_the_bottom() -> None:
    made = tree(["a", "b", "a::x", "b::y", "a::z"])
    assert made.visible == ["a", "a::x", "a::z", "b", "b::y"]
    assert made.depth == {"a": 0, "b": 0, "a::x": 1, "b::y": 1, "a::z": 1}


@pytest.mark.parametrize(("step_id", "label"), [
    ("plan", "▾ plan"),
    ("plan::before::0", "├─ before::0"),
    ("plan::then::0", "└─ then::0"),
    ("sub::inner", "├─ ▸ inner"),
    ("sub::check", "└─ check"),
    ("done", "  done"),
])
def test_labels_have_guides_and_fold_glyphs(step_id: str, label: str) -> None:
    assert tree(collapsed={"sub::inner"}).label(step_id) == label


def test_a_flat_run_has_no_fold_slots() -> None:
    made = tree(["plan", "done"])
    assert (made.nested, made.label("plan"), made.fold_offset("plan")) == (False, "plan", None)


def test_deeper_guides_continue_the_lines_of_parents_with_siblings_below() -> None:
    made = tree()
    assert made.label("sub::inner::x") == "│  └─ x"
    assert made.fold_offset("sub::inner") == len("├─ ")


@pytest.mark.parametrize(("statuses", "text"), [
    (["done", "done", "reused"], "3/3 ✓"),
    (["done", "failed", "running", "queued", "pending"], "1/5 ✓ 1 ✗ 2 ▶"),
    (["cancelled", "interrupted", "waiting"], "0/3 ✓ 1 ✗ 1 ⊘ 1 ▶"),
    ([], "0/0 ✓"),
])
def test_summary_of_children(statuses: list[str], text: str) -> None:
    assert summarise(statuses).text == text


def test_descendants_and_ancestors() -> None:
    made = tree()
    assert made.descendants("sub") == ["sub::fetch", "sub::inner", "sub::inner::x",
                                       "sub::check"]
    assert made.ancestors("sub::inner::x") == ["sub::inner", "sub"]


@pytest.mark.parametrize(("view", "changes", "moved"), [
    ("all", {"done": "failed"}, False),
    ("failed only", {"done": "failed"}, True),
    ("failed only", {"done": "running"}, False),
    ("running only", {"done": "running"}, True),
    ("running only", {"polish::note": "waiting"}, False),
    ("failed first", {"plan": "failed"}, True),
])
def test_status_changes_move_rows_only_under_a_status_filter(
        view: str, changes: dict[str, str], moved: bool) -> None:
    made = tree(status_view=view)
    statuses = {**STATUS, **changes}
    assert made.moved(changes, statuses.__getitem__) is moved


def test_rows_set_again_unchanged_keep_the_tree_and_folds() -> None:
    made = tree(collapsed={"plan"})
    assert made.set_rows(list(ROWS)) is False
    assert made.set_rows([*ROWS, "polish::again"]) is True
    assert made.collapsed == {"plan"}
    assert made.set_rows(["polish"]) is True
    assert made.collapsed == set()


@pytest.mark.parametrize(("first", "then", "visible"), [
    (["a", "b"], ["a", "b", "a::x", "b::before::0"], ["a", "a::x", "b", "b::before::0"]),
    (["a::x", "b"], ["a::x", "b", "a"], ["b", "a", "a::x"]),  # a parent after its row
    (["a", "a::x"], ["b", "a::x"], ["b", "a::x"]),  # rows gone: placed again
])
def test_rows_added_later_are_placed_under_their_parent(
        first: list[str], then: list[str], visible: list[str]) -> None:
    made = StepTree()
    made.set_rows(first)
    made.set_rows(then)
    made.rebuild(lambda step_id: "done")
    assert made.visible == visible
