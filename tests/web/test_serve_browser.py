"""``ail-tui serve`` in a real browser: headless Chromium opens the page, the dashboard
shows, a key typed in the page starts a run, and stopping the server leaves nothing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from headless_chromium import chromium_or_skip, open_page
from processes import none_tagged_within, tagged
from serve_process import serving
from waiting import wait_for

SAMPLE = ("sample_pipelines/ci_checks.ail.yaml", "--stub-script",
          "sample_pipelines/stub_script.yaml")


def _row(screen: str, step: str) -> str:
    """The steps table's row of ``step`` on ``screen`` ("" when not shown)."""
    return next((line for line in screen.splitlines()
                 if re.search(rf"\s{re.escape(step)}\s", line)), "")


@pytest.mark.timeout(150)
async def test_the_dashboard_runs_in_a_browser(tmp_path: Path) -> None:
    chromium_or_skip()
    with serving(tmp_path, *SAMPLE, "--port", "0") as server:
        url = server.url()
        assert url.startswith("http://127.0.0.1:")
        async with open_page(url, tmp_path / "profile") as page:
            screen = await page.wait_for("ci_checks.ail.yaml", "✓ valid", "lint", "typecheck",
                                         within=60)
            assert "pending" in _row(screen, "lint")

            await page.press("r")
            screen = await page.wait_until(
                lambda shown: all("✓ done" in _row(shown, step) for step in ("lint", "test")),
                "lint and test done")
            assert re.search(r"run [0-9a-f]{8}", screen)

        # The browser is gone: so is its dashboard, and the run's process.
        await asyncio.to_thread(wait_for, lambda: tagged(server.tag) == [server.process.pid],
                                15, "the closed tab's dashboard to end")
        assert server.stop() == 0  # Ctrl+C
        assert "stopped serving" in "".join(server.out)
        assert "Traceback" not in "".join(server.err)
        assert none_tagged_within(server.tag, 10) == []
