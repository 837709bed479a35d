"""The output pane on its own: wrapping, following the end, scrolling back."""

from __future__ import annotations

from collections import deque

from textual.app import App, ComposeResult

from ail_tui.tui.widgets.output_view import OutputSource, OutputView, PrefixedLines, wrap


def test_wrap_cuts_at_the_width_and_at_newlines() -> None:
    assert wrap("abcdefg", 3) == ["abc", "def", "g"]
    assert wrap("", 3) == [""]
    assert wrap("ab\ncdef", 3) == ["ab", "cde", "f"]
    assert wrap("日本語です", 4) == ["日本", "語で", "す"]  # two cells per character


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.lines: deque[str] = deque(maxlen=50)
        self.total = 0

    def compose(self) -> ComposeResult:
        yield OutputView()

    def add(self, *lines: str) -> None:
        for line in lines:
            self.lines.append(line)
            self.total += 1

    def source(self, key: str = "s") -> OutputSource:
        return OutputSource(key, "step s", self.lines, lambda: self.total)


async def test_follows_the_end_scrolls_back_and_follows_again() -> None:
    app = Host()
    async with app.run_test(size=(20, 6)) as pilot:  # a title line and five of text
        view = app.query_one(OutputView)
        app.add(*(f"line {i}" for i in range(30)))
        view.show(app.source())
        await pilot.pause()
        assert view.visible_lines()[1:] == [f"line {i}" for i in range(25, 30)]
        assert "30 lines · following" in view.visible_lines()[0]

        view.focus()
        await pilot.press("pageup")
        assert view.visible_lines()[1:] == [f"line {i}" for i in range(20, 25)]
        assert not view.following and "line 21 of 30" in view.visible_lines()[0]
        app.add("line 30")  # new text does not move a scrolled-back view
        view.show(app.source())
        assert view.visible_lines()[1] == "line 20"
        await pilot.press("end")
        assert view.visible_lines()[-1] == "line 30" and view.following
        await pilot.press("home")
        assert view.visible_lines()[1] == "line 0"


async def test_long_lines_wrap_and_dropped_lines_keep_the_place() -> None:
    app = Host()
    async with app.run_test(size=(10, 4)) as pilot:
        view = app.query_one(OutputView)
        app.add("x" * 25)
        view.show(app.source())
        await pilot.pause()
        assert view.visible_lines()[1:] == ["x" * 10, "x" * 10, "x" * 5]
        app.add(*(str(i) for i in range(100)))  # the first 51 lines fall off the deque
        view.show(app.source())
        view.action_scroll_home()
        assert view.visible_lines()[1] == "50"  # the oldest line still held
        view.show(app.source("other"))  # another step starts at its end again
        assert view.following


def test_prefixed_lines_format_pairs_when_read() -> None:
    lines = PrefixedLines([("lint", "ok"), ("test", "3 passed")])
    assert len(lines) == 2 and lines[1] == "test             │ 3 passed"


async def test_a_notice_is_wrapped_under_the_title() -> None:
    app = Host()
    async with app.run_test(size=(12, 6)) as pilot:
        view = app.query_one(OutputView)
        app.add(*(f"l{i}" for i in range(10)))
        view.show(OutputSource("s", "step", app.lines, lambda: app.total,
                               notice="error: it broke badly"))
        await pilot.pause()
        assert view.visible_lines()[1:] == ["error: it br", "oke badly", "l7", "l8", "l9"]
