"""The collector's settings: paused while loading, full collections deferred while running."""

from __future__ import annotations

import gc
from pathlib import Path

from engine_helpers import make_executor

from ail_tui import gc_control
from ail_tui.engine import events as ev
from ail_tui.gc_control import full_collections_deferred, gc_paused


def test_nested_and_concurrent_runs_restore_the_thresholds_once() -> None:
    before = gc.get_threshold()
    with full_collections_deferred():
        young0, young1, full = gc.get_threshold()
        assert (young0, young1) == before[:2] and full > 10**6
        with full_collections_deferred():
            assert gc.get_threshold()[2] > 10**6
        assert gc.get_threshold()[2] > 10**6  # the outer run is still live
    assert gc.get_threshold() == before


def test_a_run_defers_full_collections_while_it_is_live(tmp_path: Path) -> None:
    before = gc.get_threshold()
    during: list[int] = []

    def sink(event: ev.Event) -> None:
        if isinstance(event, ev.StepStarted):
            during.append(gc.get_threshold()[2])

    executor = make_executor(tmp_path, """
        version: "1"
        pipeline:
          - id: a
            context: {shell: "true"}
          - id: b
            async: true
            prompt: x
          - id: all
            action: join
            depends_on: [b]
        """, sink=sink)
    assert executor.run().status == "completed"
    assert len(during) == 3 and all(full > 10**6 for full in during)
    assert gc.get_threshold() == before


def test_startup_objects_are_set_aside_and_brought_back() -> None:
    gc_control.set_aside_startup_objects()
    try:
        assert gc.get_freeze_count() > 1000
    finally:
        gc_control.bring_back_startup_objects()
    assert gc.get_freeze_count() == 0


def test_collection_is_paused_while_any_holder_is_inside() -> None:
    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()  # someone else's choice is left alone
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
