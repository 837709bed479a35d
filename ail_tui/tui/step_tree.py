"""The steps table's tree: which step is inside which, what is folded, filtered and shown.

No Textual here. Inner steps live under their parent: chain steps
(``<parent>::before::<i>``, ``<parent>::then::<i>``), loop bodies (``<loop>::<inner>``,
nesting) and a sub-pipeline's steps (``<step>::<child step>``). The visible order is
computed again only when rows are folded or filtered, or a status change moves a row in
or out of a status filter (:meth:`StepTree.rebuild`, :meth:`StepTree.moved`); rows added
since are usually placed into it alone (:meth:`StepTree.extend`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass

CHAIN = re.compile(r"::(?:before|then)::\d+$")
DONE = frozenset({"done", "reused", "reconciled"})
FAILED = frozenset({"failed", "interrupted"})
ACTIVE = frozenset({"running", "queued", "waiting"})
STATUS_VIEWS = ("all", "failed first", "failed only", "running only")
"""The status views ``v`` cycles through, in order."""
OPEN, FOLDED, LEAF = "▾ ", "▸ ", "  "
"""The fold glyph of an expanded parent, a collapsed one, and a top-level row with no
children (when some row has)."""


def _prefix(step_id: str) -> str:
    """``step_id`` without its trailing ``::before::N``/``::then::N``, else the text
    before its last ``::`` ("" for none)."""
    chain = CHAIN.search(step_id)
    return step_id[: chain.start()] if chain else step_id.rpartition("::")[0]


def parent_of(step_id: str, rows: Container[str]) -> str | None:
    """The row ``step_id`` is inside: :func:`_prefix` of it, when that is a row."""
    prefix = _prefix(step_id)
    return prefix if prefix and prefix in rows else None


@dataclass(frozen=True)
class Summary:
    """The statuses of a parent's descendants."""

    total: int = 0
    done: int = 0
    failed: int = 0
    active: int = 0
    cancelled: int = 0

    @property
    def text(self) -> str:
        """A badge such as ``3/5 ✓ 1 ✗ 1 ▶``: counts with glyphs, never colour alone."""
        parts = [f"{self.done}/{self.total} ✓"]
        parts += [f"{count} {glyph}" for count, glyph in
                  ((self.failed, "✗"), (self.cancelled, "⊘"), (self.active, "▶")) if count]
        return " ".join(parts)


def badge_room(descendants: int) -> int:
    """Room for the badge of a parent with ``descendants`` rows inside (`` [3/5 ✓ 1 ✗]``:
    most of them done, some failed)."""
    digits = len(str(descendants))
    return len(" [/ ✓  ✗]") + 3 * digits


def summarise(statuses: Iterable[str]) -> Summary:
    """Count ``statuses`` (of a parent's descendants) into a :class:`Summary`."""
    total = done = failed = active = cancelled = 0
    for status in statuses:
        total += 1
        done += status in DONE
        failed += status in FAILED
        active += status in ACTIVE
        cancelled += status == "cancelled"
    return Summary(total, done, failed, active, cancelled)


def status_class(status: str, view: str) -> int:
    """How a status view sees a row: 0 hidden, 1 shown, 2 shown first (failed first)."""
    if view == "failed only":
        return int(status in FAILED)
    if view == "running only":
        return int(status in ACTIVE)
    if view == "failed first":
        return 2 if status in FAILED else 1
    return 1


class StepTree:
    """Rows as a tree: parents, depths, folds, filters and the visible order."""

    def __init__(self) -> None:
        self.collapsed: set[str] = set()
        self.status_view = STATUS_VIEWS[0]
        self.name_filter = ""
        self.visible: list[str] = []
        """The ids shown, top to bottom."""
        self.index: dict[str, int] = {}
        """Position of each visible id in :attr:`visible`."""
        self.parent: dict[str, str | None] = {}
        self.children: dict[str | None, list[str]] = {}
        self.depth: dict[str, int] = {}
        self.guides: dict[str, str] = {}
        """Each visible row's tree guides (``│  ``, ``├─ ``, ``└─ ``) before its fold glyph."""
        self.widest = 0
        """The widest label shown, with room for a parent's badge (see :func:`badge_room`)."""
        self._classes: dict[str, int] = {}
        self._keep: set[str] | None = None
        """The rows the filters keep (None: all), as :meth:`_kept` tells."""
        self._ids: list[str] = []
        self._orphans: set[str] = set()
        """Prefixes of rows placed at the top level that would be their parents."""
        self._ordered = 0
        """How many of the rows (the first ones) the visible order was worked out for."""
        self._ordered_with: tuple[object, ...] = ()
        """The folds, filters and nesting it was worked out with."""

    # -- structure -----------------------------------------------------------------------

    def set_rows(self, ids: Iterable[str]) -> bool:
        """Take the rows in the run view's order; True when they differ from the last.

        Rows only added at the end (a run view's rows grow that way) are placed alone;
        any other change, or a new row some row is inside, places every row again."""
        ids = list(ids)
        old = len(self._ids)
        if ids == self._ids:
            return False
        added = ids[old:]
        if len(ids) > old and ids[:old] == self._ids and not self._orphans.intersection(added):
            self._ids = ids
            self._place(added)
            return True
        self.parent, self.children, self.depth, self._orphans = {}, {}, {}, set()
        self._ids, self._ordered = ids, 0
        self._place(ids)
        self.collapsed &= self.parent.keys()
        return True

    def _place(self, ids: list[str]) -> None:
        """Give each of ``ids`` (new rows, after those placed) its parent and depth."""
        known = self.parent.keys() | set(ids)
        for step_id in ids:
            up = parent_of(step_id, known)
            self.parent[step_id] = up
            self.children.setdefault(up, []).append(step_id)
            if up is None and "::" in step_id:  # its parent may come later
                self._orphans.add(_prefix(step_id))
        for step_id in ids:
            up = self.parent[step_id]
            self.depth[step_id] = 0 if up is None else self.depth.get(up, 0) + 1

    @property
    def count(self) -> int:
        """How many rows the tree holds (shown or not)."""
        return len(self._ids)

    @property
    def nested(self) -> bool:
        """Whether any row is inside another (then every row has a fold slot)."""
        return len(self.children.get(None, ())) != len(self._ids)

    def is_parent(self, step_id: str) -> bool:
        """Whether a row has rows inside it."""
        return bool(self.children.get(step_id))

    def descendants(self, step_id: str) -> list[str]:
        """Every row inside ``step_id``, at any depth."""
        out: list[str] = []
        stack = list(reversed(self.children.get(step_id, ())))
        while stack:
            step = stack.pop()
            out.append(step)
            stack.extend(reversed(self.children.get(step, ())))
        return out

    def ancestors(self, step_id: str) -> list[str]:
        """The rows ``step_id`` is inside, nearest first."""
        out: list[str] = []
        up = self.parent.get(step_id)
        while up is not None:
            out.append(up)
            up = self.parent.get(up)
        return out

    def label(self, step_id: str) -> str:
        """The step cell: tree guides, fold glyph, and the name inside its parent."""
        up = self.parent.get(step_id)
        name = step_id[len(up) + 2:] if up is not None else step_id
        if not self.nested:
            return name
        if self.is_parent(step_id):
            fold = FOLDED if step_id in self.collapsed else OPEN
        else:  # top-level names line up with their parents' names
            fold = LEAF if up is None else ""
        return f"{self.guides.get(step_id, '')}{fold}{name}"

    def fold_offset(self, step_id: str) -> int | None:
        """Where the fold glyph of a parent's row starts in its step cell (None: no glyph)."""
        if not self.nested or not self.is_parent(step_id):
            return None
        return len(self.guides.get(step_id, ""))

    # -- folding and filtering -----------------------------------------------------------

    def toggle(self, step_id: str) -> None:
        """Fold or unfold a parent."""
        if step_id in self.collapsed:
            self.collapsed.discard(step_id)
        elif self.is_parent(step_id):
            self.collapsed.add(step_id)

    def filtering(self) -> bool:
        """Whether a status view other than ``all`` or a name filter is on."""
        return self.status_view != "all" or bool(self.name_filter)

    def moved(self, changed: Iterable[str], status_of: Callable[[str], str]) -> bool:
        """Whether status changes of ``changed`` rows move one in or out of the status
        view (or to the top of it): then the visible order must be rebuilt."""
        if self.status_view == "all":
            return False
        return any(status_class(status_of(step_id), self.status_view)
                   != self._classes.get(step_id) for step_id in changed
                   if step_id in self.parent)

    def _settings(self) -> tuple[object, ...]:
        """What the visible order depends on besides the rows and their statuses."""
        return self.status_view, self.name_filter, frozenset(self.collapsed), self.nested

    def rebuild(self, status_of: Callable[[str], str]) -> None:
        """Compute the visible rows, their order and their guides."""
        self._ordered, self._ordered_with = len(self._ids), self._settings()
        view, needle = self.status_view, self.name_filter.lower()
        classes: dict[str, int] = {}
        if view != "all":
            by_status: dict[str, int] = {}
            for step_id in self._ids:
                status = status_of(step_id)
                cls = by_status.get(status)
                if cls is None:
                    cls = by_status[status] = status_class(status, view)
                classes[step_id] = cls
        self._classes = classes
        keep = self._keep = self._kept(classes, needle)
        first = _failing_subtrees(self.parent, classes) if view == "failed first" else None
        visible: list[str] = []
        guides: dict[str, str] = {}
        children, collapsed = self.children, self.collapsed
        # (id, the guides its children inherit) in reverse, depth first.
        stack: list[tuple[str, str]] = []

        def push(parent: str | None, inherited: str) -> None:
            kids = children[parent]
            if keep is not None:
                kids = [k for k in kids if k in keep]
            if first is not None:
                kids = sorted(kids, key=lambda k: k not in first)  # failing subtrees first
            if parent is None:
                stack.extend((kid, "") for kid in reversed(kids))
                return
            last = len(kids) - 1
            for number in range(last, -1, -1):
                kid = kids[number]
                guides[kid] = inherited + ("└─ " if number == last else "├─ ")
                stack.append((kid, inherited + ("   " if number == last else "│  ")))

        if None in children:
            push(None, "")
        while stack:
            step_id, below = stack.pop()
            visible.append(step_id)
            if step_id in children and step_id not in collapsed:
                push(step_id, below)
        self.visible, self.guides = visible, guides
        self.index = {step_id: i for i, step_id in enumerate(visible)}
        self.widest = self._widest()

    def extend(self, status_of: Callable[[str], str]) -> bool:
        """Place the rows added since the visible order was worked out into it, as
        :meth:`rebuild` would; False (nothing changed) when it cannot: the folds,
        filters or nesting changed since, rows were placed again, a new row is inside
        another new row, would bring a hidden parent into a filter's view, or failed
        under ``failed first``.

        Costs the new rows and their parents' subtrees, not every row: a storm adding
        rows under a tree of thousands."""
        if not 0 < self._ordered <= len(self._ids) or self._settings() != self._ordered_with:
            return False
        added = self._ids[self._ordered:]
        new = set(added)
        view, needle, keep = self.status_view, self.name_filter.lower(), self._keep
        classes: dict[str, int] = {}
        shown: list[str] = []
        for step_id in added:
            up = self.parent[step_id]
            if up in new:
                return False
            cls = classes[step_id] = 1 if view == "all" else status_class(status_of(step_id),
                                                                             view)
            if cls == 2:
                return False
            if keep is not None and not (cls and needle in step_id.lower()):
                continue
            if keep is not None and up is not None and up not in keep:
                return False
            if up is None or (up in self.index and up not in self.collapsed):
                shown.append(step_id)
        self._insert(shown)
        if view != "all":
            self._classes.update(classes)
        if keep is not None:
            keep.update(step_id for step_id in added if classes[step_id]
                        and needle in step_id.lower())
        self._ordered = len(self._ids)
        ancestors = {up for step_id in added for up in self.ancestors(step_id)}
        self.widest = max(self.widest, self._widest([*shown, *ancestors.intersection(
            self.index)]))
        return True

    def _insert(self, shown: list[str]) -> None:
        """Put new rows, each the last child of a shown parent (or top level), into the
        visible order, and mend the guides of the siblings above them."""
        visible, index, depth = self.visible, self.index, self.depth
        top = [step_id for step_id in shown if self.parent[step_id] is None]
        by_parent: dict[str, list[str]] = {}
        for step_id in shown:
            if (up := self.parent[step_id]) is not None:
                by_parent.setdefault(up, []).append(step_id)
        inserts = [(len(visible), 1, top)] if top else []  # (at, -parent's depth, rows)
        # Shallower parents first: mending their guides changes those of deeper ones.
        for up in sorted(by_parent, key=depth.__getitem__):
            kids, below = by_parent[up], depth[up] + 1
            end = index[up] + 1
            while end < len(visible) and depth[visible[end]] >= below:
                end += 1
            guide = self.guides.get(up, "")
            inherited = guide[:-3] + ("   " if guide.endswith("└─ ") else "│  ") \
                if guide else ""
            last = next((at for at in range(end - 1, index[up], -1)
                         if depth[visible[at]] == below), None)
            if last is not None:  # its last shown child gets a sibling below
                self.guides[visible[last]] = inherited + "├─ "
                cut = len(inherited)
                for step_id in visible[last + 1:end]:
                    old = self.guides[step_id]
                    self.guides[step_id] = old[:cut] + "│  " + old[cut + 3:]
            for number, kid in enumerate(kids):
                self.guides[kid] = inherited + ("└─ " if number == len(kids) - 1 else "├─ ")
            inserts.append((end, -depth[up], kids))
        if not inserts:
            return
        inserts.sort(key=lambda insert: insert[:2])
        merged: list[str] = visible[:inserts[0][0]]
        for number, (at, _, kids) in enumerate(inserts):
            merged += kids
            merged += visible[at:inserts[number + 1][0] if number + 1 < len(inserts) else None]
        first = inserts[0][0]
        self.visible = merged
        index.update((step_id, first + i) for i, step_id in enumerate(merged[first:]))

    def _widest(self, rows: Iterable[str] | None = None) -> int:
        """The widest label of the visible rows (or of ``rows``), with room for each
        parent's badge."""
        rows = self.visible if rows is None else rows
        if not self.nested:
            return max((len(step_id) for step_id in rows), default=0)
        sizes = self._sizes()
        widest = 0
        for step_id in rows:
            parent = self.parent[step_id]
            width = len(self.guides.get(step_id, "")) + len(step_id) - (
                0 if parent is None else len(parent) + 2)
            if step_id in sizes:
                width += len(OPEN) + badge_room(sizes[step_id])
            elif parent is None:
                width += len(LEAF)
            widest = max(widest, width)
        return widest

    def _sizes(self) -> dict[str, int]:
        """How many rows each parent has inside it, at any depth."""
        sizes: dict[str, int] = {}
        parents = [step_id for step_id in self.children if step_id is not None]
        for parent in sorted(parents, key=self.depth.__getitem__, reverse=True):
            sizes[parent] = sum(1 + sizes.get(kid, 0) for kid in self.children[parent])
        return sizes

    def _kept(self, classes: Mapping[str, int], needle: str) -> set[str] | None:
        """The rows a filter keeps: those matching it and their ancestors (None: all)."""
        if not classes and not needle:
            return None
        keep: set[str] = set()
        parent = self.parent
        for step_id in self._ids:
            if (classes and not classes[step_id]) or (needle and needle not in step_id.lower()):
                continue
            node: str | None = step_id
            while node is not None and node not in keep:  # it and the rows it is inside
                keep.add(node)
                node = parent[node]
        return keep


def _failing_subtrees(parent: Mapping[str, str | None],
                      classes: Mapping[str, int]) -> set[str]:
    """The rows that failed or have a failed row inside them."""
    out: set[str] = set()
    for step_id, cls in classes.items():
        node: str | None = step_id if cls == 2 else None
        while node is not None and node not in out:
            out.add(node)
            node = parent.get(node)
    return out
