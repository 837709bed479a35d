"""Rows placed into the visible order alone (StepTree.extend) give what working the order
out again gives (StepTree.rebuild), whatever came before: adds, folds, filters, statuses."""

from __future__ import annotations

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from ail_tui.tui.step_tree import STATUS_VIEWS, StepTree

STATUSES = ("pending", "running", "done", "failed", "queued")
FILTERS = ("", "1", "then", "x")


def fresh(ids: list[str], statuses: dict[str, str], model: StepTree) -> StepTree:
    """A tree worked out from scratch with ``model``'s folds and filters."""
    made = StepTree()
    made.set_rows(ids)
    made.collapsed = set(model.collapsed)
    made.status_view, made.name_filter = model.status_view, model.name_filter
    made.rebuild(statuses.__getitem__)
    return made


def assert_same(tree: StepTree, whole: StepTree) -> None:
    assert tree.visible == whole.visible
    assert tree.index == whole.index
    assert tree.guides == whole.guides
    assert tree.widest == whole.widest
    assert [tree.label(i) for i in tree.visible] == [whole.label(i) for i in whole.visible]


class Storm:
    """The steps table's way with its tree: rows added are placed alone when they can
    be, a status change that moves a row (or any fold or filter) works it out again."""

    def __init__(self) -> None:
        self.tree = StepTree()
        self.ids: list[str] = []
        self.statuses: dict[str, str] = {}
        self.moved = False
        self.extended = 0
        self.log: list[str] = []

    def __repr__(self) -> str:
        return "Storm: " + "; ".join(self.log)

    def add(self, new: list[tuple[str, str]]) -> None:
        self.log.append(f"add {new}")
        for step_id, status in new:
            if step_id not in self.statuses:  # a row already there changes by change()
                self.ids.append(step_id)
                self.statuses[step_id] = status
        self.tree.set_rows(self.ids)
        if not self.moved and self.tree.extend(self.statuses.__getitem__):
            self.extended += 1
        else:
            self.rebuild()

    def rebuild(self) -> None:
        self.tree.set_rows(self.ids)
        self.tree.rebuild(self.statuses.__getitem__)
        self.moved = False

    def change(self, step_id: str, status: str) -> None:
        self.log.append(f"{step_id} {status}")
        self.statuses[step_id] = status
        self.moved = self.moved or self.tree.moved([step_id], self.statuses.__getitem__)
        if self.moved:
            self.rebuild()


def new_rows(draw: st.DrawFn, ids: list[str], count: int) -> list[tuple[str, str]]:
    """Rows a run view could add: top level, chain steps, loop bodies, now and then a
    row inside another new row or before its parent."""
    out: list[tuple[str, str]] = []
    for n in range(draw(st.integers(1, 4))):
        known = ids + [step_id for step_id, _ in out]
        kind = draw(st.sampled_from(("top", "then", "inner", "inner", "orphan")))
        if kind == "top" or not known:
            step_id = f"s{count + n}"
        elif kind == "orphan":
            step_id = f"s{count + n + 1}::x"
        else:
            parent = draw(st.sampled_from(known))
            step_id = (f"{parent}::then::{count + n}" if kind == "then"
                       else f"{parent}::x{count + n}")
        out.append((step_id, draw(st.sampled_from(STATUSES))))
    return out


@st.composite
def storms(draw: st.DrawFn) -> Storm:
    storm = Storm()
    storm.tree.status_view = draw(st.sampled_from(STATUS_VIEWS))
    storm.tree.name_filter = draw(st.sampled_from(FILTERS))
    storm.add([(f"s{i}", "queued") for i in range(draw(st.integers(1, 4)))])
    for count in range(draw(st.integers(1, 25))):
        what = draw(st.sampled_from(("add", "add", "add", "fold", "view", "name",
                                     "status")))
        if what == "add":
            storm.add(new_rows(draw, storm.ids, 10 * count))
        elif what == "fold":
            storm.tree.toggle(draw(st.sampled_from(storm.ids)))
            storm.rebuild()
        elif what == "view":
            storm.tree.status_view = draw(st.sampled_from(STATUS_VIEWS))
            storm.rebuild()
        elif what == "name":
            storm.tree.name_filter = draw(st.sampled_from(FILTERS))
            storm.rebuild()
        else:
            storm.change(draw(st.sampled_from(storm.ids)), draw(st.sampled_from(STATUSES)))
        storm.log.append(f"{what}: {storm.tree.collapsed} {storm.tree.status_view!r} "
                         f"{storm.tree.name_filter!r}")
        note(repr(storm))
        assert_same(storm.tree, fresh(storm.ids, storm.statuses, storm.tree))
    return storm


@settings(max_examples=300, deadline=None)
@given(storms())
def test_rows_placed_alone_give_the_order_worked_out_again(storm: Storm) -> None:
    assert_same(storm.tree, fresh(storm.ids, storm.statuses, storm.tree))


ADDS = [
    # (rows, folded, view, name filter, rows added, placed alone); "bad" rows failed
    (["a", "b", "b::x"], set(), "all", "", ["a::then::0"], True),
    (["a", "a::x", "a::x::y", "b"], set(), "all", "", ["a::z"], True),  # mends guides
    (["a", "a::x", "a::x::y", "b"], set(), "all", "", ["a::x::w", "a::z", "c"], True),
    (["a", "a::x"], {"a"}, "all", "", ["a::y"], True),  # under a fold: hidden
    (["a", "a::x", "a::x::y"], {"a::x"}, "all", "", ["a::x::z", "a::w"], True),
    (["a", "b"], set(), "all", "", ["a::then::0"], False),  # the first inner row
    (["a", "b", "b::x"], set(), "all", "", ["a::x", "a::x::y"], False),  # in a new row
    (["a", "b", "b::x"], set(), "all", "1", ["b::then::1"], False),  # b was filtered out
    (["a1", "b", "b::x"], set(), "all", "1", ["a1::then::0", "b::y", "c1"], True),
    (["a", "b", "b::x"], set(), "failed first", "", ["b::then::0"], True),
    (["a", "b", "b::x"], set(), "failed first", "", ["b::bad"], False),  # goes first
    (["a", "bad", "bad::y"], set(), "failed only", "", ["bad::z", "c"], True),
    (["a", "b", "b::x"], set(), "failed only", "", ["b::bad"], False),
]


@pytest.mark.parametrize(("rows", "folded", "view", "needle", "added", "alone"), ADDS)
def test_rows_added_to_an_ordered_tree(rows: list[str], folded: set[str], view: str,
                                       needle: str, added: list[str], alone: bool) -> None:
    statuses = {step_id: "failed" if "bad" in step_id else "running"
                for step_id in rows + added}
    tree = StepTree()
    tree.set_rows(rows)
    tree.collapsed, tree.status_view, tree.name_filter = set(folded), view, needle
    tree.rebuild(statuses.__getitem__)
    tree.set_rows(rows + added)
    assert tree.extend(statuses.__getitem__) is alone
    if not alone:
        tree.rebuild(statuses.__getitem__)
    assert_same(tree, fresh(rows + added, statuses, tree))


def test_the_order_changed_since_is_never_extended() -> None:
    statuses = {"a": "done", "b": "done", "a::x": "done"}
    tree = StepTree()
    tree.set_rows(["a", "b"])
    tree.rebuild(statuses.__getitem__)
    tree.name_filter = "b"
    tree.set_rows(["a", "b", "a::x"])
    assert tree.extend(statuses.__getitem__) is False
    assert tree.visible == ["a", "b"]  # untouched until worked out again
