"""The end-of-run summary in a real terminal: the ci_checks sample runs to its end, the
summary shows itself, s shows it again, e exports the run."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

from processes import TAG_VARIABLE, none_tagged_within
from tmux_session import ROOT, Tmux, needs_tmux, program
from waiting import wait_for

pytestmark = needs_tmux


def without(screen: str, text: str) -> str | None:
    """The screen, once ``text`` is no longer on it (None while it is)."""
    return None if text in screen else screen


def test_the_summary_at_the_end_of_the_ci_checks_sample(tmp_path: Path) -> None:
    tag = f"tmux-summary-{uuid.uuid4().hex}"
    # The sample's shell steps read files beside it: a copy runs from the test's folder,
    # where the exports go by default.
    shutil.copytree(ROOT / "sample_pipelines", tmp_path / "sample_pipelines")
    term = Tmux(tmp_path)
    try:
        term.start(program(tmp_path, tmp_path, "sample_pipelines/ci_checks.ail.yaml",
                           "--stub-script", "sample_pipelines/stub_script.yaml",
                           **{TAG_VARIABLE: tag}), width=120, height=40)
        term.wait_for("✓ valid")
        term.keys("r")
        screen = term.wait_for("Critical path", timeout=30)  # it opens on its own
        assert "✓ completed" in screen and "By runner" in screen
        assert "✗ preview: " in screen and "timed out" in screen
        assert "⊘ smoke: " in screen

        term.keys("Escape")
        wait_for(lambda: without(term.screen(), "Critical path"), 10, "the summary to close")
        term.keys("s")
        term.wait_for("Critical path")

        term.keys("e")
        term.wait_for(".md")  # the default file: ail-run-<run id 8>.md, here
        term.keys("Enter")
        term.wait_for("Exported run")  # to the path, in a notification
        markdown, = tmp_path.glob("ail-run-*.md")
        assert markdown.read_text(encoding="utf-8").startswith(
            f"# Run {markdown.stem[-8:]} — completed")

        term.keys("e")  # again, as JSON: shift+tab to the format, down, space
        term.wait_for("Export run")
        term.settled()  # the dialog's file name has the focus
        term.keys("BTab")
        term.keys("Down")
        term.keys("Space")
        term.wait_for(f"{markdown.stem}.json")
        term.keys("Tab")  # back to the file name
        term.keys("Enter")
        exported = tmp_path / f"{markdown.stem}.json"
        data = json.loads(wait_for(lambda: exported.exists() and exported.read_text(),
                                   10, "the JSON export"))
        screen = wait_for(lambda: without(term.screen(), "Export run"), 10,
                          "the export dialog to close")
        assert data["schema"] == "ail-tui-run-summary/1" and data["status"] == "completed"
        assert f"Run {markdown.stem[-8:]} · ✓ completed" in screen, screen  # the summary

        term.keys("Escape")
        wait_for(lambda: without(term.screen(), "✓ completed ·"), 10, "the summary to close")
        term.keys("q")
        term.wait_shell()
    finally:
        term.close()
    assert none_tagged_within(tag, 3.0) == []
