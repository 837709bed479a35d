"""The steps tree and its filters in a real 120×40 terminal (issue 14): a chain, a loop
body and a sub-pipeline's steps under their step with guides and badges; space, left and
right fold and move to the parent; v cycles the status views, f filters by name; q quits."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from private_runtime import private_runtime
from processes import TAG_VARIABLE, none_tagged_within
from tmux_session import Tmux, needs_tmux, shows

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [needs_tmux, pytest.mark.timeout(180)]

PIPELINE = """\
version: "1"
pipeline:
  - id: plan
    prompt: "Plan the work"
    then: ["Summarise the plan"]
  - id: polish
    do_while:
      max_iterations: 2
      exit_when: "{{ step.lint.exit_code }} == 0"
      steps:
        - id: lint
          context: {shell: "echo linted"}
        - id: note
          prompt: "Note what changed"
  - id: sub
    pipeline: ./child.ail.yaml
  - id: broken
    timeout_seconds: 1
    context: {shell: "sleep 30"}
    on_error: continue
  - id: ship
    prompt: "Ship it"
"""
CHILD = """\
version: "1"
pipeline:
  - id: fetch
    context: {shell: "echo fetched"}
  - id: check
    context: {shell: "echo checked"}
"""
TREE = ["▾ plan [1/1 ✓]", "└─ then::0", "▾ polish [2/2 ✓]", "├─ lint", "└─ note",
        "▾ sub [2/2 ✓]", "├─ fetch", "└─ check", "broken", "ship"]
"""The step cells of every row, top to bottom, once the run has ended."""
SGR = re.compile(r"\x1b\[([0-9;]*)m")


@dataclass(frozen=True)
class Table:
    """The steps table as the terminal shows it (left of the divider)."""

    filter_line: str  # "" when no filter is on
    rows: list[str]  # each row's text
    selected: str  # the step cell of the row drawn in reverse video ("" for none)

    @property
    def steps(self) -> list[str]:
        """Each row's step cell: its tree guides, fold glyph, name and badge."""
        return [step_cell(row) for row in self.rows]


def step_cell(row: str) -> str:
    """The step cell of a row: columns are two or more spaces apart, the status first
    (tree guides and badges hold single spaces; this tree is too shallow for ``│  ``)."""
    cells = re.split(r" {2,}", row.strip())
    return cells[1] if len(cells) > 1 else ""


def reversed_on(raw: str) -> bool:
    """Whether the escape codes in ``raw`` turn reverse video on (SGR 7)."""
    for found in SGR.finditer(raw):
        params = found.group(1).split(";")
        i = 0
        while i < len(params):
            if params[i] in ("38", "48", "58"):  # a colour: 5;n or 2;r;g;b follow
                i += 3 if params[i + 1:i + 2] == ["5"] else 5
                continue
            if params[i] == "7":
                return True
            i += 1
    return False


def read_table(term: Tmux) -> Table | None:
    """The steps table on screen (None while its header is not shown)."""
    raw = term.tmux("capture-pane", "-p", "-e", "-t", "e2e").splitlines()
    left = [SGR.sub("", line).split("│")[0] for line in raw]
    header = next((i for i, text in enumerate(left) if text.split()[:2] == ["status", "step"]),
                  None)
    if header is None:
        return None
    filter_line = left[header - 1].strip() if left[header - 1].strip().startswith(
        "filter:") else ""
    rows: list[str] = []
    selected = ""
    for i in range(header + 1, len(left)):
        if not left[i].strip():
            break
        rows.append(left[i])
        if reversed_on(raw[i].split("│")[0]):
            selected = step_cell(left[i])
    return Table(filter_line, rows, selected)


def wait_table(term: Tmux, holds: Callable[[Table], bool], what: str,
               timeout: float = 20.0) -> Table:
    """The table once ``holds`` it (polled until ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = read_table(term)
        if table is not None and holds(table):
            return table
        time.sleep(0.1)
    raise AssertionError(f"never on screen: {what}\n{term.screen()}")


def column(rows: list[str], text: str) -> int:
    """Where ``text`` starts in the first row holding it."""
    return next(row.index(text) for row in rows if text in row)


def test_the_steps_tree_folds_and_filters_in_a_real_terminal(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "tree.ail.yaml").write_text(PIPELINE, encoding="utf-8")
    (project / "child.ail.yaml").write_text(CHILD, encoding="utf-8")
    (tmp_path / "config").mkdir()  # no ail-tui/config.toml: the settings as shipped
    tag = f"tmux-tree-{uuid.uuid4().hex}"
    with private_runtime() as runtime:
        env = {
            "AIL_HOME": str(tmp_path / "home"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "AIL_TUI_RUNTIME_DIR": str(runtime),
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH"))
                                          if p),
            "TERM": "xterm-256color",
            TAG_VARIABLE: tag,
        }
        check = subprocess.run([sys.executable, "-m", "ail_tui", "validate", "tree.ail.yaml"],
                               cwd=project, env={**os.environ, **env}, capture_output=True,
                               text=True, timeout=60, check=False)
        assert check.returncode == 0 and "valid" in check.stdout, check.stdout + check.stderr

        exports = " ".join(f"{k}='{v}'" for k, v in env.items())
        term = Tmux(tmp_path)
        try:
            term.start(f"cd '{project}' && env -u AIL_TUI_CONFIG {exports} "
                       f"'{sys.executable}' -m ail_tui tree.ail.yaml --stub-response ok",
                       width=120, height=40)
            term.wait_for("✓ valid", timeout=40)
            term.keys("r")
            screen = term.wait_for("Critical path", timeout=60)  # the summary, on its own
            assert "✗ broken: " in screen and "timed out" in screen, screen
            term.keys("Escape")
            term.wait_screen(lambda s: "Critical path" not in s, "the summary closed")

            # Inner steps under their step: guides, fold glyphs, badges counting them.
            table = wait_table(term, lambda t: t.steps == TREE, "the whole tree")
            screen = term.screen()
            for line in ("✓ done ▾ plan [1/1 ✓] prompt", "✓ done └─ then::0 prompt",
                         "✓ done ▾ polish [2/2 ✓] loop", "✓ done ├─ lint shell",
                         "✓ done └─ note prompt", "✓ done ▾ sub [2/2 ✓] pipeline",
                         "✓ done ├─ fetch shell", "✓ done └─ check shell",
                         "✗ failed broken shell", "✓ done ship prompt"):
                assert shows(screen, line), f"{line!r} not on screen:\n{screen}"
            assert table.filter_line == ""
            top = column(table.rows, "plan [")
            assert column(table.rows, "broken") == top  # top-level names line up
            for child, parent in (("├─ fetch", "▾ sub"), ("└─ then::0", "▾ plan")):
                assert column(table.rows, child) == column(table.rows, parent)  # the guides
                assert column(table.rows, child.split()[1]) > top  # the name, indented

            # space folds the selected parent and unfolds it; its badge stays.
            term.keys("Home")
            wait_table(term, lambda t: t.selected == "▾ plan [1/1 ✓]", "plan selected")
            term.keys("Down", "Down", "Down", "Down", "Down")
            wait_table(term, lambda t: t.selected == "▾ sub [2/2 ✓]", "sub selected")
            term.keys("Space")
            folded = [*TREE[:5], "▸ sub [2/2 ✓]", *TREE[8:]]
            wait_table(term, lambda t: t.steps == folded and t.selected == "▸ sub [2/2 ✓]",
                       "sub folded, its badge kept, still selected")
            term.keys("Space")
            wait_table(term, lambda t: t.steps == TREE and t.selected == "▾ sub [2/2 ✓]",
                       "sub unfolded")

            # left on a child goes to its parent; left again folds it, right unfolds.
            term.keys("Down")
            wait_table(term, lambda t: t.selected == "├─ fetch", "fetch selected")
            term.keys("Left")
            wait_table(term, lambda t: t.selected == "▾ sub [2/2 ✓]" and t.steps == TREE,
                       "the parent selected, nothing folded")
            term.keys("Left")
            wait_table(term, lambda t: t.steps == folded, "sub folded by left")
            term.keys("Right")
            wait_table(term, lambda t: t.steps == TREE, "sub unfolded by right")

            # v: failed first, failed only, running only, all.
            term.keys("v")
            table = wait_table(term, lambda t: t.filter_line.startswith("filter: failed first"),
                               "the failed-first filter line")
            assert shows(table.filter_line, "filter: failed first · 10/10 shown")
            assert table.steps[0] == "broken" and "failed" in table.rows[0], table.rows
            assert sorted(table.steps) == sorted(TREE)
            term.keys("v")
            table = wait_table(term, lambda t: t.filter_line.startswith("filter: failed only"),
                               "the failed-only filter line")
            assert shows(table.filter_line, "filter: failed only · 1/10 shown")
            assert table.steps == ["broken"]
            term.keys("v")
            table = wait_table(term, lambda t: t.filter_line.startswith("filter: running"),
                               "the running-only filter line")
            assert shows(table.filter_line, "filter: running only · 0/10 shown")
            assert table.steps == []
            term.keys("v")
            wait_table(term, lambda t: t.filter_line == "" and t.steps == TREE,
                       "every step again, no filter line")

            # f: a name filter keeps the matching steps and the steps they are inside.
            term.keys("f")
            term.wait_for("filter steps by name")  # the box, focused, before typing
            term.keys("lint")
            named = ["▾ polish [2/2 ✓]", "└─ lint"]
            wait_table(term, lambda t: t.steps == named
                       and shows(t.filter_line, 'filter: name "lint" · 2/10 shown'),
                       "lint and its loop, the name filter line")
            term.keys("Enter")
            term.wait_screen(lambda s: "filter steps by name" not in s and "▊" not in s,
                        "the box closed")
            table = wait_table(term, lambda t: t.steps == named, "the filter kept")
            assert shows(table.filter_line, 'filter: name "lint" · 2/10 shown')
            term.keys("f")
            term.wait_screen(lambda s: any(line.startswith("▊") and "lint" in line
                                            for line in s.splitlines()),
                        "the box again, with the filter in it")
            term.keys("Escape")
            wait_table(term, lambda t: t.filter_line == "" and t.steps == TREE,
                       "every step again after escape")
            term.wait_screen(lambda s: "▊" not in s, "the box closed")

            term.keys("q")
            term.wait_exited()
        finally:
            term.close()
    assert none_tagged_within(tag, 3.0) == []
