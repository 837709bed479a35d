"""Viewers that misbehave never disturb the run (decisions A7): a malformed or unknown
request gets an error reply, an endless line is cut off, a viewer that never reads is
dropped (or left queued) while the run goes on at full speed, a viewer killed mid-storm
is forgotten."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time

import pytest
from event_recorder import Recorder
from orchestration_helpers import FINISH_WITHIN, RawViewer, Served, keys
from waiting import wait_for

from ail_tui.engine import events as ev
from ail_tui.engine.run_types import RunStatus
from ail_tui.orchestration import control_server
from ail_tui.orchestration.control_protocol import MAX_REQUEST_BYTES

STORM_CHUNKS = 20_000
STORM = {"default": {"response": "ok", "delay": 0.0},
         "steps": {"storm": {"response": "x" * STORM_CHUNKS, "chunks": STORM_CHUNKS,
                             "delay": 0.0}}}
"""``storm`` streams 20 000 deltas as fast as the run can emit them."""
LONG_STORM = {"default": {"response": "ok", "delay": 0.0},
              "steps": {"storm": {"response": "x" * STORM_CHUNKS, "chunks": STORM_CHUNKS,
                                  "delay": 1.0}}}
"""The same storm spread over a second or two (or more on a loaded machine)."""


def completed_with_its_whole_log(served: Served) -> None:
    """The run completed, and its turn log says so with every step's entry."""
    assert served.finished().status == RunStatus.COMPLETED
    records = served.records()
    assert records[-1]["type"] == "run_finished" and records[-1]["status"] == "completed"
    entries = {r["step_id"]: r for r in records if "type" not in r}
    assert set(entries) >= {"storm", "after"}
    assert entries["storm"]["response"] == "x" * STORM_CHUNKS


@pytest.mark.parametrize(("garbage", "says"), [
    (b"\x00\x01\x02 garbage \xfe\n", "not JSON"),
    (b"\xff\xfe\xfd\n", "not JSON"),
    (b'{"id": 1, "op": "hello"\n', "not JSON"),
    (b"[1, 2, 3]\n", "not a JSON object"),
    (b'{"id": "one", "op": "hello"}\n', "'id' is not an integer"),
], ids=["binary", "non-utf8", "truncated-json", "json-list", "string-id"])
def test_garbage_gets_an_error_reply_and_the_connection_goes_on(serve, garbage: bytes,
                                                                says: str) -> None:
    served: Served = serve("gate.ail.yaml", interactive=True)
    served.start()
    raw = served.raw()
    raw.send(garbage)
    answer = raw.line()
    assert answer["reply"] is None and answer["ok"] is False and says in answer["error"]
    raw.send(b'{"id": 9, "op": "status"}\n')
    status = raw.line()
    assert status["reply"] == 9 and status["ok"] is True
    served.recorder.wait_for(lambda e: isinstance(e, ev.HitlGateReached))
    assert served.run.answer_gate("gate")
    assert served.finished().status == RunStatus.COMPLETED


@pytest.mark.parametrize(("request_line", "says"), [
    ({"id": 5, "op": "explode"}, "unknown request 'explode'"),
    ({"id": 6, "op": "cancel", "force": True}, "unknown argument 'force'"),
    ({"id": 7, "op": "cancel_step"}, "step_id missing"),
    ({"id": 8, "op": "answer_gate", "step_id": 3}, "'step_id' has the wrong type"),
], ids=["unknown-op", "unknown-argument", "missing-argument", "wrong-type"])
def test_an_unknown_request_gets_an_error_reply_with_its_id(serve, request_line: dict,
                                                            says: str) -> None:
    served: Served = serve("sequence.ail.yaml")
    raw = served.raw()
    raw.send((json.dumps(request_line) + "\n").encode())
    answer = raw.line()
    assert answer["reply"] == request_line["id"] and answer["ok"] is False
    assert says in answer["error"]
    served.start()
    assert served.finished().status == RunStatus.COMPLETED


def test_subscribing_twice_is_refused(serve) -> None:
    served: Served = serve("sequence.ail.yaml")
    raw = served.raw()
    raw.send(b'{"id": 1, "op": "subscribe"}\n{"id": 2, "op": "subscribe"}\n')
    assert raw.reply() == {"reply": 1, "ok": True, "value": None}
    second = raw.reply()
    assert (second["reply"], second["ok"]) == (2, False) and "already" in second["error"]


@pytest.mark.timeout(60)
def test_an_endless_line_gets_an_error_and_is_closed_and_the_run_goes_on(serve) -> None:
    served: Served = serve("storm.ail.yaml", STORM)
    watcher = Recorder()
    served.viewer().subscribe(watcher)
    raw = served.raw()
    flood = b'{"id": 1, "op": "cancel", "reason": "' + b"z" * (1 << 20)  # 1 MiB, no newline

    def push() -> None:
        with contextlib.suppress(OSError):  # the server stops reading and closes
            raw.send(flood)

    pusher = threading.Thread(target=push, daemon=True)
    pusher.start()
    served.start()
    answer = raw.line()
    assert answer["reply"] is None and answer["ok"] is False
    assert f"over the limit of {MAX_REQUEST_BYTES} bytes" in answer["error"]
    assert raw.closed_by_server()
    pusher.join(10)
    completed_with_its_whole_log(served)
    watcher.wait_for(lambda e: isinstance(e, ev.TERMINAL), FINISH_WITHIN)
    assert keys(watcher.events) == keys(served.recorder.events)


def test_too_many_viewers_are_told_so(serve, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control_server, "MAX_VIEWERS", 2)
    served: Served = serve("sequence.ail.yaml")
    first, second = served.viewer(), served.viewer()
    third = served.raw()
    refused = third.line()
    assert refused["ok"] is False and "too many viewers" in refused["error"]
    assert third.closed_by_server()
    assert served.server.viewers == 2
    first.close()
    wait_for(lambda: served.server.viewers == 1, 5, "the server to forget a viewer")
    assert served.viewer().run_id == second.run_id  # room again


def never_reading_viewer(served: Served) -> RawViewer:
    """A viewer with a tiny receive buffer that subscribes and never reads again."""
    raw = served.raw(rcvbuf=1024)
    raw.send(b'{"id": 1, "op": "subscribe"}\n')
    assert raw.reply()["ok"] is True
    return raw


def storm_time(served: Served) -> float:
    """Start the storm; how long the run took to complete (its log checked)."""
    started = time.monotonic()
    served.start()
    completed_with_its_whole_log(served)
    return time.monotonic() - started


@pytest.mark.timeout(60)
def test_a_viewer_that_never_reads_is_cut_off_and_the_run_is_not_slowed(
        serve, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = storm_time(serve("storm.ail.yaml", STORM))
    monkeypatch.setattr(control_server, "MAX_BACKLOG", 100)
    served: Served = serve("storm.ail.yaml", STORM)
    raw = never_reading_viewer(served)
    took = storm_time(served)
    assert took < 5 * alone + 2.0, f"the storm took {took:.2f} s, {alone:.2f} s unwatched"
    assert served.server.viewers == 0, "the viewer 100 events behind is cut off"
    assert raw.closed_by_server()


@pytest.mark.timeout(60)
def test_a_viewer_that_never_reads_stays_queued_and_others_get_everything(serve) -> None:
    assert control_server.MAX_BACKLOG > STORM_CHUNKS * 2  # the whole storm fits
    alone = storm_time(serve("storm.ail.yaml", STORM))
    served: Served = serve("storm.ail.yaml", STORM)
    never_reading_viewer(served)
    reader = Recorder()
    served.viewer().subscribe(reader)
    took = storm_time(served)
    assert took < 5 * alone + 2.0, f"the storm took {took:.2f} s, {alone:.2f} s unwatched"
    reader.wait_for(lambda e: isinstance(e, ev.TERMINAL), FINISH_WITHIN)
    assert keys(reader.events) == keys(served.recorder.events)
    assert served.server.viewers == 2  # still queued: not cut off, never in the run's way


VIEWER_SCRIPT = r"""
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"id": 1, "op": "subscribe"}\n')
s.recv(1)
print("subscribed", flush=True)
while True:
    s.recv(64)
    time.sleep(0.01)
"""


@pytest.mark.timeout(60)
def test_a_viewer_killed_mid_storm_leaves_the_run_going(serve) -> None:
    served: Served = serve("storm.ail.yaml", LONG_STORM)
    viewer = subprocess.Popen([sys.executable, "-c", VIEWER_SCRIPT, str(served.path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert viewer.stdout is not None
        assert viewer.stdout.readline().strip() == "subscribed"
        wait_for(lambda: served.server.viewers == 1, 5, "the viewer to be served")
        served.start()
        wait_for(lambda: len(served.recorder.events) > 500, 10, "the storm to begin")
        assert not any(isinstance(e, ev.StepCompleted) and e.step_id == "storm"
                       for e in served.recorder.events), "the storm is still on"
        viewer.send_signal(signal.SIGKILL)
        viewer.wait(10)
    finally:
        if viewer.poll() is None:
            viewer.kill()
            viewer.wait(10)
    completed_with_its_whole_log(served)
    wait_for(lambda: served.server.viewers == 0, 5, "the server to forget the killed viewer")
