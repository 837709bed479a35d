"""``ail-tui serve`` without a browser: what it listens on, the command each session runs,
its errors, and that no dashboard, run or step process outlives the server."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from processes import none_tagged_within, step_processes
from serve_process import ROOT, serving
from waiting import wait_for

from ail_tui import cli, detached_commands, web_serve
from ail_tui.web_serve import is_loopback, parent_death_prefix, served_command

SAMPLE = "sample_pipelines/ci_checks.ail.yaml"
SLOW = """version: "1"
pipeline:
  - id: slow
    context: {shell: "sleep 60"}
"""


def _listening(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net shows them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found.add(local.rsplit(":", 1)[0])
    return found


@pytest.mark.timeout(60)
def test_it_listens_on_the_loopback_only_by_default(tmp_path: Path) -> None:
    with serving(tmp_path, SAMPLE, "--port", "0") as server:
        url = server.url()
        port = int(url.rsplit(":", 1)[1].rstrip("/"))
        assert url == f"http://127.0.0.1:{port}"
        assert _listening(port) == {"0100007F"}  # 127.0.0.1, and nothing else
        assert "warning" not in "".join(server.err)
        assert server.stop() == 0


def test_loopback_hosts() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("::")


@pytest.mark.parametrize(("argv", "app_args"), [
    (["serve", "--attach", "0123abcd", "--port", "0"], ["attach", "0123abcd"]),
    (["serve", SAMPLE, "--port", "9", "--stub-script", "sample_pipelines/stub_script.yaml",
      "--watch-run"], [SAMPLE, "--stub-script", "sample_pipelines/stub_script.yaml",
                       "--watch-run"]),
])
def test_the_served_command(argv: list[str], app_args: list[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Any] = []
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(web_serve, "serve_dashboard", lambda *call: served.append(call) or 0)
    monkeypatch.setattr(detached_commands, "known_run", lambda ref: True)
    assert cli.main(argv) == 0
    assert served == [(app_args, "127.0.0.1", int(argv[argv.index("--port") + 1]), None)]


def test_the_command_is_quoted_for_the_shell(tmp_path: Path) -> None:
    odd = ["my pipe's.ail.yaml", "--prompt", "$(touch pwned); `id` \"x\" *"]
    command = served_command(["attach", "0123abcd"])
    assert shlex.split(command) == ["exec", sys.executable, "-m", "ail_tui", "attach",
                                    "0123abcd"]
    echo = served_command(odd).replace(f"{shlex.quote(sys.executable)} -m ail_tui",
                                       "printf '%s\\n'")
    printed = subprocess.run(["sh", "-c", echo], cwd=tmp_path, capture_output=True, text=True,
                             check=True).stdout
    assert printed.splitlines() == odd
    assert not (tmp_path / "pwned").exists()


def test_the_dashboard_options_are_checked_first(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_serve, "serve_dashboard", lambda *call: pytest.fail("served"))
    assert cli.main(["missing.ail.yaml"]) == 2
    dashboard = capsys.readouterr().err
    assert cli.main(["serve", "missing.ail.yaml"]) == 2
    assert capsys.readouterr().err == dashboard == (
        "ail-tui: cannot open 'missing.ail.yaml': no such file\n")
    assert cli.main(["serve", "--attach", "0123abcd", SAMPLE]) == 2
    assert "--attach takes no dashboard options" in capsys.readouterr().err


@pytest.mark.timeout(60)
def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "ail_tui", "serve", SAMPLE, "--port",
                               str(port)], cwd=ROOT, capture_output=True, text=True,
                              timeout=30)
    assert done.returncode == 1
    assert done.stderr == (f"ail-tui: cannot serve on 127.0.0.1:{port}: port {port} is in use "
                           "(choose another with --port, or --port 0 for a free one)\n")


def test_without_textual_serve_it_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delitem(sys.modules, "ail_tui.web_serve")
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)  # as if not installed
    assert cli.main(["serve", SAMPLE]) == 1
    assert "pip install 'ail-tui[web]'" in capsys.readouterr().err


def test_other_commands_start_without_textual_serve() -> None:
    probe = ("import sys, contextlib, io\n"
             "from ail_tui import cli\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             f"    cli.main(['validate', {SAMPLE!r}]); cli.main(['--help'])\n"
             "print(sorted(m for m in sys.modules if m.startswith("
             "('aiohttp', 'textual_serve', 'jinja2', 'ail_tui.web_serve'))))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=30, check=True)
    assert done.stdout.strip() == "[]"


@contextlib.asynccontextmanager
async def _running(url: str, tag: str) -> AsyncIterator[None]:
    """A session opened as a browser would: once its dashboard shows, r is pressed, and
    the run's step is running."""
    async with aiohttp.ClientSession() as session, session.ws_connect(
            url.replace("http:", "ws:") + "/ws?width=120&height=40") as browser:
        shown = ""
        while "valid" not in shown:
            message = await browser.receive(timeout=30)
            assert message.type == aiohttp.WSMsgType.BINARY, message
            shown += message.data.decode("utf-8", "replace")
        await browser.send_json(["stdin", "r"])
        await asyncio.to_thread(wait_for, lambda: step_processes(tag), 30, "the step process")
        reading = asyncio.create_task(_read_until_closed(browser))  # as a browser does
        try:
            yield
        finally:
            reading.cancel()


async def _read_until_closed(browser: aiohttp.ClientWebSocketResponse) -> None:
    async for _ in browser:
        pass


@pytest.mark.timeout(90)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP,
                                    signal.SIGKILL])
async def test_no_process_outlives_the_server(signum: int, tmp_path: Path) -> None:
    if signum == signal.SIGKILL and not parent_death_prefix():
        pytest.skip("no setpriv --pdeathsig here: a killed server's dashboards live on")
    (tmp_path / "slow.ail.yaml").write_text(SLOW)
    with serving(tmp_path, "slow.ail.yaml", "--port", "0", cwd=tmp_path) as server:
        async with _running(server.url(), server.tag):
            code = await asyncio.to_thread(server.stop, signum, 15)  # aiohttp alone: 60 s
            assert code == (-signal.SIGKILL if signum == signal.SIGKILL else 0)
            survivors = await asyncio.to_thread(none_tagged_within, server.tag, 15)
            assert survivors == []  # its dashboard, the run's process, the step's sleep


def test_attaching_to_an_unknown_run_serves_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AIL_TUI_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setattr(web_serve, "serve_dashboard", lambda *call: pytest.fail("served"))
    assert cli.main(["serve", "--attach", "0123abcd"]) == 1
    assert "no live run '0123abcd' in this project" in capsys.readouterr().err
