"""``ail-tui resume RUN_ID`` and ``ail-tui rerun RUN_ID [--from STEP_ID]`` (D1, D4).

Both find the earlier run's log the way ``log`` does (an id, a unique prefix or a path),
read its pipeline again from the file it ran, and run it in the dashboard or, with
``--headless``, with NDJSON events on stdout and the exit codes of ``run``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ail_tui.runners.registry import RunnerFactory

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


@dataclass(frozen=True)
class ContinueRequest:
    """What the dashboard should go on from: a run's log, resumed or re-run."""

    log: Path
    resume: bool
    from_step: str | None = None


def add_arguments(resume: argparse.ArgumentParser, rerun: argparse.ArgumentParser) -> None:
    """The arguments of the two commands (run options are added by the caller)."""
    for parser in (resume, rerun):
        parser.add_argument("run", metavar="RUN_ID",
                            help="a run id, a unique prefix of one, or a .jsonl path")
        parser.add_argument("--headless", action="store_true",
                            help="no dashboard: print events as NDJSON on stdout")
    rerun.add_argument("--from", dest="from_step", metavar="STEP_ID",
                       help="run again from this step on, reusing the results before it "
                            "(default: reuse every step whose definition is unchanged)")


def cmd_continue(args: argparse.Namespace, *, resume: bool,
                 runners: tuple[str | None, RunnerFactory] | None) -> int:
    """Resume (``resume``) or re-run the run ``args.run`` (``runners``: the session
    runner and factory from the run options; None when they are bad); the exit code."""
    from ail_tui.engine.continuing import FINISHED, CannotContinue, continue_run
    from ail_tui.engine.run_types import RunOptions
    from ail_tui.turnlog.reader import read_run
    from ail_tui.turnlog.store import find_run

    what = "resume" if resume else "re-run"
    path = find_run(args.run)
    if path is None:
        sys.stderr.write(f"ail-tui: no run '{args.run}' found for this directory "
                         f"({Path.cwd()}); see ail-tui logs\n")
        return EXIT_INVALID
    if runners is None:
        return EXIT_UNREADABLE
    runner, factory = runners
    from_step: str | None = getattr(args, "from_step", None)
    try:
        record = read_run(path, times=False)
    except OSError as exc:
        sys.stderr.write(f"ail-tui: cannot read {path}: {exc}\n")
        return EXIT_UNREADABLE
    if resume and record.status in FINISHED:
        sys.stderr.write(f"ail-tui: run {record.run_id} already finished ({record.status}); "
                         "nothing to resume (ail-tui rerun starts it again)\n")
        return EXIT_OK
    options = RunOptions(prompt=args.prompt, runner=runner, model=args.model, runners=factory)
    try:
        going_on = continue_run(record, options, resume=resume, from_step=from_step)
    except CannotContinue as exc:
        sys.stderr.write(f"ail-tui: cannot {what} run {record.run_id}: {exc}\n")
        return EXIT_INVALID
    if not args.headless:
        from ail_tui.tui.app import run_dashboard

        return run_dashboard(str(going_on.pipeline.source), prompt=going_on.options.prompt,
                             runner=runner, model=args.model, runners=factory,
                             continue_from=ContinueRequest(path, resume, from_step))
    from ail_tui.headless import run_headless

    sys.stderr.write(f"ail-tui: {what} of run {record.run_id}: {going_on.reusable} step "
                     f"result{'s' if going_on.reusable != 1 else ''} reused\n")
    return run_headless(going_on.pipeline, going_on.options)
