"""Full collections wait while a run streams, and come back when it ends."""

from __future__ import annotations

import gc

from test_dashboard import until

from ail_tui.tui import gc_policy


def test_defer_then_resume_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    gc_policy.defer_full_collections()
    gc_policy.defer_full_collections()  # twice is harmless
    young0, young1, full = gc.get_threshold()
    assert (young0, young1) == before[:2] and full > 10**6
    gc_policy.resume_full_collections()
    assert gc.get_threshold() == before


async def test_a_dashboard_run_defers_full_collections_until_it_ends(make_app) -> None:
    before = gc.get_threshold()
    app = make_app("""
        version: "1"
        pipeline:
          - id: a
            prompt: x
        """, script={"default": {"delay": 0.5}})
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.pipeline is not None)
        await pilot.press("r")
        await until(pilot, lambda: app.view.running)
        assert gc.get_threshold()[2] > 10**6
        await until(pilot, lambda: app.view.state == "completed")
        await pilot.pause(0.2)
        assert gc.get_threshold() == before
