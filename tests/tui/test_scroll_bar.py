"""The steps table's scroll bar, drawn again only when its thumb moves on screen
(``ail_tui.tui.widgets.scroll_bar``): it still follows every line scrolled, and it looks
exactly as Textual's own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pilot_waits import until
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ail_tui.tui.app import AilApp
from ail_tui.tui.widgets.scroll_bar import keep_bar_lines

pytestmark = pytest.mark.timeout(60)

LONG = 'version: "1"\npipeline:\n' + "".join(
    f"  - id: s{i}\n    prompt: p{i}\n" for i in range(400))


async def test_the_bar_follows_the_table_line_by_line_and_to_its_ends(
        make_app: Callable[..., AilApp]) -> None:
    app = make_app(LONG)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.pipeline is not None)
        table = app.table
        table.focus()
        bar = table.vertical_scrollbar
        for _ in range(60):
            await pilot.press("down")
            await pilot.pause()
            assert bar.position == int(table.scroll_y * 8) / 8
        assert table.scroll_y > 0
        await pilot.press("end")
        await until(pilot, lambda: table.scroll_y == table.max_scroll_y)
        assert bar.position == int(table.max_scroll_y * 8) / 8
        await pilot.press("home")
        await until(pilot, lambda: bar.position == 0)


class _Bars(App[None]):
    """Two scrolled columns alike, one with its bar drawn by the kept renderer."""

    def compose(self) -> ComposeResult:
        for name in ("textual", "kept"):
            with VerticalScroll(id=name):
                yield Static("\n".join(f"line {n}" for n in range(500)))

    def on_mount(self) -> None:
        keep_bar_lines(self.query_one("#kept", VerticalScroll).vertical_scrollbar)


async def test_the_kept_bar_is_drawn_as_textuals_own_at_every_position() -> None:
    app = _Bars()
    async with app.run_test(size=(40, 20)) as pilot:
        own, kept = (app.query_one(f"#{name}", VerticalScroll) for name in ("textual", "kept"))
        for y in (0, 1, 7, 120, 250, 481, 10_000):
            own.scroll_to(y=y, animate=False)
            kept.scroll_to(y=y, animate=False)
            await pilot.pause()
            assert own.scroll_y == kept.scroll_y
            ours, theirs = kept.vertical_scrollbar, own.vertical_scrollbar
            for line in range(ours.size.height):
                assert ours.render_line(line) == theirs.render_line(line), (y, line)
