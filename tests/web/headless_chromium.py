"""Headless Chromium, driven over the DevTools protocol with aiohttp's websocket client, to
open the served dashboard in a real browser: read its terminal, type into it.

Debian's ``chromium`` (/usr/bin/chromium) is used; without it the tests are skipped and
say why, unless ``AIL_TEST_REQUIRE_CHROMIUM=1`` (CI installs it), when they fail instead.

The terminal on textual-serve's page is xterm.js drawing on a canvas, so the screen is not
in the page's text: a script that runs before the page's own keeps the page's xterm.js
``Terminal`` (textual-serve's page assigns it to a ``terminal`` property) as
``window.__ailTerminal``, whose buffer is then read line by line.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_VARIABLE = "AIL_TEST_REQUIRE_CHROMIUM"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--window-size=1400,900")
START_SECONDS = 30.0
"""How long Chromium may take to start (its DevTools port file) on a busy machine."""

KEEP_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true,
                                             enumerable: true});
    if (value && typeof value.loadAddon === "function") window.__ailTerminal = value;
  },
});
"""
SCREEN = """(() => {
  const terminal = window.__ailTerminal;
  if (!terminal) return null;
  const buffer = terminal.buffer.active, rows = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
})()"""


def chromium_or_skip() -> Path:
    """Chromium's executable; skips the test without it (fails it under the require flag)."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = f"{CHROMIUM} is not installed (Debian: apt-get install chromium)"
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"headless Chromium is required here ({REQUIRE_VARIABLE}=1): {reason}")
    pytest.skip(reason)


async def until(condition: Callable[[], Awaitable[Any]], within: float, what: str,
                every: float = 0.1) -> Any:
    """Await ``condition()`` until its value is truthy (that value); fail after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(every)


class Page:
    """One page of the browser, over its DevTools websocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method; its result (events meanwhile are passed over)."""
        call = next(self._ids)
        await self._socket.send_json({"id": call, "method": method, "params": params})
        while True:
            message = await self._socket.receive_json(timeout=START_SECONDS)
            if message.get("id") == call:
                if "error" in message:
                    raise AssertionError(f"DevTools {method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        reply = await self.send("Runtime.evaluate", expression=expression,
                                returnByValue=True)
        if "exceptionDetails" in reply:
            raise AssertionError(f"{expression!r} failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    async def screen(self) -> str:
        """The terminal's visible lines ("" before the page has its terminal)."""
        return str(await self.evaluate(SCREEN) or "")

    async def wait_for(self, *texts: str, within: float = 30.0) -> str:
        """Wait until the terminal shows every one of ``texts``; the screen then."""
        return await self.wait_until(lambda screen: all(text in screen for text in texts),
                                     f"{texts} in the browser's terminal", within)

    async def wait_until(self, check: Callable[[str], bool], what: str,
                         within: float = 30.0) -> str:
        """Wait until ``check(screen)`` holds; the screen then."""
        async def shown() -> str:
            screen = await self.screen()
            return screen if check(screen) else ""

        try:
            return str(await until(shown, within, what))
        except AssertionError as error:
            raise AssertionError(f"{error}; the terminal showed:\n{await self.screen()}") \
                from None

    async def press(self, key: str) -> None:
        """Type one printable key into the focused terminal, as a keyboard would."""
        await self.evaluate("window.__ailTerminal.focus()")
        code = f"Key{key.upper()}" if key.isalpha() else ""
        await self.send("Input.dispatchKeyEvent", type="keyDown", key=key, code=code,
                        text=key, windowsVirtualKeyCode=ord(key.upper()))
        await self.send("Input.dispatchKeyEvent", type="keyUp", key=key, code=code,
                        windowsVirtualKeyCode=ord(key.upper()))


@contextlib.asynccontextmanager
async def open_page(url: str, profile: Path) -> AsyncIterator[Page]:
    """Headless Chromium (a fresh profile in ``profile``) showing ``url``; it is killed,
    by its process group, on the way out."""
    executable = chromium_or_skip()
    profile.mkdir(parents=True, exist_ok=True)
    log = (profile.parent / "chromium.log").open("wb")
    browser = subprocess.Popen(  # its own process group: it and its helpers end together
        [str(executable), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"

        async def port() -> str:
            lines = port_file.read_text().split() if port_file.exists() else []
            return lines[0] if len(lines) == 2 else ""

        devtools = f"http://127.0.0.1:{await until(port, START_SECONDS, 'Chromium')}"
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{devtools}/json/list") as reply:
                targets = await reply.json()
            target = next(t for t in targets if t.get("type") == "page")
            async with session.ws_connect(target["webSocketDebuggerUrl"],
                                          max_msg_size=0) as socket:
                page = Page(socket)
                await page.send("Page.enable")
                await page.send("Page.addScriptToEvaluateOnNewDocument", source=KEEP_TERMINAL)
                await page.send("Page.navigate", url=url)
                yield page
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(browser.pid, signal.SIGKILL)
        browser.wait(timeout=10)
        log.close()
