"""``ail-tui ps``, ``attach``, ``cancel`` and ``answer``: live runs of other processes
(decisions A2–A5). ``run --detach`` is in :mod:`ail_tui.orchestration.detached`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ail_tui.orchestration.live_runs import LiveRun
    from ail_tui.orchestration.remote_run import RemoteRun

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2
CANCEL_WAIT_SECONDS = 60.0
"""How long ``cancel`` waits for the run to record its end."""


def add_commands(commands: Any) -> None:
    """The four commands' parsers (``commands``: argparse's sub-parsers)."""
    ps = commands.add_parser("ps", help="list this project's live runs (detached or not)")
    ps.add_argument("--format", choices=("text", "json"), default="text")
    attach = commands.add_parser(
        "attach", help="open the dashboard on a live run of another process "
                       "(leaving it leaves the run running)")
    attach.add_argument("run", metavar="RUN_ID", help="a run id or a unique prefix of one")
    attach.add_argument("--headless", action="store_true",
                        help="print the run's events as NDJSON, from its start, until it "
                             "ends; exit with its exit code")
    cancel = commands.add_parser("cancel", help="cancel a live run, or one of its steps")
    cancel.add_argument("run", metavar="RUN_ID", help="a run id or a unique prefix of one")
    cancel.add_argument("--step", metavar="STEP_ID", help="cancel only this step")
    answer = commands.add_parser("answer", help="answer a live run's waiting human gate")
    answer.add_argument("run", metavar="RUN_ID", help="a run id or a unique prefix of one")
    answer.add_argument("step", metavar="STEP_ID", help="the gate's step")
    verdict = answer.add_mutually_exclusive_group()
    verdict.add_argument("--approve", dest="approved", action="store_true", default=True,
                         help="approve (the default)")
    verdict.add_argument("--reject", dest="approved", action="store_false",
                         help="reject: the run stops at the gate")
    answer.add_argument("--text", help="for a modify gate: the text that replaces the "
                                       "last response")


def main(args: argparse.Namespace) -> int:
    """Run the command ``args.command``; its exit code."""
    if args.command == "ps":
        return cmd_ps(args.format)
    if args.command == "attach":
        return cmd_attach(args.run, args.headless)
    if args.command == "cancel":
        return cmd_cancel(args.run, args.step)
    return cmd_answer(args.run, args.step, args.approved, args.text)


def _connect(ref: str) -> tuple[LiveRun, RemoteRun] | None:
    """The live run ``ref`` of this project and a connection to it (None: none such)."""
    from ail_tui.orchestration.live_runs import UnsafeRuntimeDir, find_live_run
    from ail_tui.orchestration.remote_run import ControlError, RemoteRun

    try:
        live = find_live_run(ref)
    except UnsafeRuntimeDir as error:
        sys.stderr.write(f"ail-tui: {error}\n")
        return None
    if live is None:
        live = _follow_again(ref)
    if live is None:
        return None
    try:
        return live, RemoteRun(live.socket_path)
    except ControlError as error:
        sys.stderr.write(f"ail-tui: {error}\n")
        return None


def _follow_again(ref: str) -> LiveRun | None:
    """A Temporal run of this project whose process here died, followed again by a new
    run process (None: there is none such, or it could not be followed)."""
    from ail_tui.orchestration.launch import LaunchFailed, start_process
    from ail_tui.orchestration.live_runs import find_live_run, unfollowed_runs

    runs = unfollowed_runs()
    named = [r for r in runs if r.run_id == ref] or [
        r for r in runs if ref and r.run_id.startswith(ref)]
    if len(named) != 1:
        return None
    try:
        start_process(["-m", "ail_tui.orchestration.temporal.adopt", named[0].run_id])
    except LaunchFailed as error:
        sys.stderr.write(f"ail-tui: cannot follow run {named[0].run_id} again: {error}\n")
        return None
    return find_live_run(named[0].run_id)


def known_run(ref: str) -> bool:
    """Whether ``ref`` names a run of this project, live or in its logs (else says so)."""
    from ail_tui.orchestration.live_runs import UnsafeRuntimeDir, find_live_run
    from ail_tui.turnlog.store import find_run

    try:
        if ref and find_live_run(ref) is not None:
            return True
    except UnsafeRuntimeDir as error:
        sys.stderr.write(f"ail-tui: {error}\n")
    if ref and find_run(ref) is not None:
        return True
    _no_live_run(ref)
    return False


def _no_live_run(ref: str) -> int:
    sys.stderr.write(f"ail-tui: no live run '{ref}' in this project ({Path.cwd()}); "
                     "see ail-tui ps\n")
    return EXIT_FAILED


def cmd_ps(output_format: str) -> int:
    """List this project's live runs, newest first."""
    from ail_tui.orchestration.live_runs import UnsafeRuntimeDir, live_runs, unfollowed_runs
    from ail_tui.orchestration.remote_run import ControlError, RemoteRun
    from ail_tui.report import display_path
    from ail_tui.turnlog.store import local_time

    try:
        runs = live_runs()
        unfollowed = unfollowed_runs()
    except UnsafeRuntimeDir as error:
        sys.stderr.write(f"ail-tui: {error}\n")
        return EXIT_FAILED
    rows: list[dict[str, Any]] = []
    for live in runs:
        state: dict[str, Any] = {"status": "starting", "steps": {}, "gates": []}
        try:
            remote = RemoteRun(live.socket_path, connect_timeout=0.5)
        except ControlError:
            pass
        else:
            try:
                state = remote.status()
            except ControlError:
                pass
            finally:
                remote.close()
        rows.append({"run_id": live.run_id, "pipeline_source": live.pipeline_source,
                     "pid": live.pid, "started_at": live.started_at,
                     "detached": live.detached, "status": state.get("status"),
                     "steps": state.get("steps", {}), "gates": state.get("gates", [])})
    for left in unfollowed:  # on Temporal, its process here gone: attach follows it again
        rows.append({"run_id": left.run_id, "pipeline_source": left.pipeline_source,
                     "pid": None, "started_at": left.started_at, "detached": True,
                     "status": "unfollowed", "steps": {}, "gates": []})
    if output_format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    if not rows:
        sys.stdout.write("no live runs in this project\n")
        return EXIT_OK
    for row in rows:
        counts = " ".join(f"{k} {v}" for k, v in sorted(row["steps"].items())) or "-"
        gates = f"  gate: {', '.join(row['gates'])}" if row["gates"] else ""
        source = display_path(row["pipeline_source"]) if row["pipeline_source"] else "?"
        kind = "detached" if row["detached"] else "foreground"
        sys.stdout.write(f"{row['run_id']}  {row['status']:<9} pid {row['pid'] or '-':<7} "
                         f"[{local_time(row['started_at'])}] {kind:<10} {counts}  "
                         f"{source}{gates}\n")
    return EXIT_OK


def cmd_attach(ref: str, headless: bool) -> int:
    """Follow a run: live when its process serves it, else from its log when it ended."""
    connected = _connect(ref)
    if connected is not None:
        from ail_tui.orchestration.remote_run import ControlError

        live, remote = connected
        try:
            remote.follow()
            if headless:
                return _print_events(remote)
            from ail_tui.tui.app import run_dashboard

            source = live.pipeline_source if live.pipeline_source and Path(
                live.pipeline_source).is_file() else None
            return run_dashboard(source, attach=remote)
        except ControlError:
            pass  # it ended just now: shown from its log below
        finally:
            remote.close()
    from ail_tui.engine.recorded_run import RecordedRun
    from ail_tui.turnlog.store import find_run

    path = find_run(ref)
    if path is None or not ref:
        return _no_live_run(ref)
    try:
        recorded = RecordedRun.read(path)
    except OSError as error:
        sys.stderr.write(f"ail-tui: cannot read {path}: {error}\n")
        return EXIT_UNREADABLE
    if headless:
        return _print_events(recorded)
    from ail_tui.tui.app import run_dashboard

    return run_dashboard(None, replay=recorded)


def _print_events(run: Any) -> int:
    """Every event of ``run`` as NDJSON until it ends; its exit code."""
    from ail_tui.headless import NdjsonSink, exit_code

    sink = NdjsonSink(sys.stdout)
    run.subscribe(sink)
    try:
        result = run.wait()
    finally:
        sink.close()
    lost = getattr(run, "lost", None)
    if lost:
        sys.stderr.write(f"ail-tui: {lost}\n")
    return int(exit_code(result))


def cmd_cancel(ref: str, step: str | None) -> int:
    """Cancel a live run (waiting for it to record its end) or one of its steps."""
    connected = _connect(ref)
    if connected is None:
        return _no_live_run(ref)
    live, remote = connected
    try:
        if step is not None:
            if not remote.cancel_step(step):
                sys.stderr.write(f"ail-tui: step '{step}' of run {live.run_id} is not "
                                 "running or queued\n")
                return EXIT_FAILED
            sys.stdout.write(f"cancelled step {step} of run {live.run_id}\n")
            return EXIT_OK
        remote.subscribe(lambda event: None)
        remote.cancel("run cancelled with ail-tui cancel")
        result = remote.wait(CANCEL_WAIT_SECONDS)
        if result is None:
            sys.stderr.write(f"ail-tui: run {live.run_id} is still ending after "
                             f"{CANCEL_WAIT_SECONDS:.0f} s\n")
            return EXIT_FAILED
        sys.stdout.write(f"run {live.run_id} {result.status}\n")
        return EXIT_OK
    finally:
        remote.close()


def cmd_answer(ref: str, step: str, approved: bool, text: str | None) -> int:
    """Answer the human gate waiting at ``step`` of a live run."""
    connected = _connect(ref)
    if connected is None:
        return _no_live_run(ref)
    live, remote = connected
    try:
        if not remote.answer_gate(step, approved, text):
            sys.stderr.write(f"ail-tui: no gate waits at step '{step}' of run "
                             f"{live.run_id}\n")
            return EXIT_FAILED
    finally:
        remote.close()
    verdict = "approved" if approved else "rejected"
    sys.stdout.write(f"{verdict} the gate at {step} of run {live.run_id}\n")
    return EXIT_OK
