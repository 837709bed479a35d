"""Command-line entry points: the dashboard, ``validate``, ``run``, ``resume``, ``rerun``,
``log``, ``logs``, ``delete``, ``compare``, and the live-run commands ``ps``, ``attach``,
``cancel``, ``answer``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ail_tui import __version__
from ail_tui.pipeline.validation import check_file
from ail_tui.process_exit import exit_now, must_exit_now
from ail_tui.report import display_path, is_unreadable, report_json, report_text, summary_line

if TYPE_CHECKING:
    from ail_tui.runners.registry import RunnerFactory
    from ail_tui.turnlog.store import RunSummary

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
SUBCOMMANDS = ("validate", "run", "resume", "rerun", "log", "logs", "delete", "ps", "attach",
               "cancel", "answer", "serve", "compare", "worker", "dev-server")
LIVE_RUN_COMMANDS = frozenset({"ps", "attach", "cancel", "answer"})
READ_ONLY = frozenset({"validate", "log", "logs", "ps", "compare"})
"""Commands that only read and print: once their output is flushed, nothing is left to
tear down, so the process exits without the interpreter's finalization (tens of ms)."""
_PIPELINE_HELP = ("path to a .ail.yaml file (default: the pipeline Rust ail last used here, "
                  "else .ail/default, a single .ail/*/*.yaml, ~/.config/ail/default.yaml)")
_USAGE = ("ail-tui PIPELINE [options]\n       ail-tui {validate,run,resume,rerun,log,logs,delete,"
          "ps,attach,cancel,answer,serve,compare,worker,dev-server} ...")


def _use_colour(stream: object) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def cmd_validate(path: str, output_format: str) -> int:
    """Validate a pipeline file; exit 0 valid, 1 invalid, 2 when the file can't be read.

    Text: diagnostics on stderr (as compilers and Rust ``ail`` do); stdout has only the
    summary of a valid file. JSON: the report on stdout.
    """
    result = check_file(path)
    shown = display_path(path)
    if output_format == "json":
        sys.stdout.write(json.dumps(report_json(result), indent=2, ensure_ascii=False) + "\n")
    else:
        text = report_text(result, shown, colour=_use_colour(sys.stderr))
        if result.valid:
            summary = summary_line(result, shown) + "\n"
            sys.stderr.write(text.removesuffix(summary))
            sys.stdout.write(summary)
        else:
            sys.stderr.write(text)
    if is_unreadable(result):
        return EXIT_UNREADABLE
    return EXIT_OK if result.valid else EXIT_INVALID


def _runners(args: argparse.Namespace) -> tuple[str | None, RunnerFactory] | None:
    """The session runner and the runner factory from the run options (None: bad script).

    ``--stub-response`` or ``--stub-script`` make the stub the session runner unless
    ``--runner`` says otherwise.
    """
    from ail_tui.runners.registry import RunnerFactory
    from ail_tui.runners.stub import DEFAULT_RESPONSE, StubScriptError, load_stub_script

    script = None
    if args.stub_script is not None:
        try:
            script = load_stub_script(args.stub_script)
        except StubScriptError as exc:
            sys.stderr.write(f"ail-tui: {exc}\n")
            return None
    return _session_runner(args), RunnerFactory(args.stub_response or DEFAULT_RESPONSE, script)


def _session_runner(args: argparse.Namespace) -> str | None:
    """``--runner``, else the stub when ``--stub-response`` or ``--stub-script`` is given."""
    if args.runner is None and (args.stub_script is not None or args.stub_response is not None):
        return "stub"
    runner: str | None = args.runner
    return runner


def _find_pipeline(given: str | None) -> str | None:
    """``given``, else the pipeline discovery finds (brief §1); None after saying why not."""
    if given is not None:
        return given
    from ail_tui.pipeline.discovery import discover_pipeline
    from ail_tui.turnlog.paths import runs_dir

    found = discover_pipeline(Path.cwd(), Path.home(), runs_dir().parent)
    if found.path is None:
        sys.stderr.write("ail-tui: " + found.explain())
        return None
    return str(found.path)


def cmd_run(args: argparse.Namespace) -> int:
    """Run a pipeline headless: NDJSON events on stdout; exit 0, 1, or 130 on Ctrl-C."""
    if args.dry_run:
        from ail_tui.dry_run_report import dry_run_command

        return dry_run_command(args.pipeline, prompt=args.prompt, runner=_session_runner(args),
                               model=args.model, output_format=args.format)
    from ail_tui.temporal_commands import backend

    orchestration = backend(args)
    if orchestration is False:
        return EXIT_UNREADABLE
    if args.detach:  # the run's own process checks the pipeline (its errors come here)
        return _detach(args)
    from ail_tui.engine.run_types import RunOptions
    from ail_tui.headless import run_headless

    result = check_file(args.pipeline)
    if result.pipeline is None or not result.valid:
        sys.stderr.write(report_text(result, display_path(args.pipeline)))
        return EXIT_UNREADABLE if is_unreadable(result) else EXIT_INVALID
    chosen = _runners(args)
    if chosen is None:
        return EXIT_UNREADABLE
    runner, runners = chosen
    if not args.headless and args.serve_fd is None:
        from ail_tui.tui.app import run_dashboard

        return run_dashboard(args.pipeline, prompt=args.prompt, runner=runner,
                             model=args.model, runners=runners, autorun=True,
                             orchestration=orchestration)
    options = RunOptions(prompt=args.prompt, runner=runner, model=args.model, runners=runners,
                         interactive=args.serve_fd is not None,  # A5: gates wait for a person
                         orchestration=orchestration)
    if args.serve_fd is not None:
        from ail_tui.orchestration.launch import serve

        return serve(result.pipeline, options, args.serve_fd)
    return run_headless(result.pipeline, options)


def _detach(args: argparse.Namespace) -> int:
    """Start the run in a background process of its own; print its id (decisions A1)."""
    from ail_tui.orchestration.launch import LaunchFailed, launch

    argv = ["run", args.pipeline]  # the run's process starts in this folder
    for flag, value in (("--prompt", args.prompt), ("--runner", args.runner),
                        ("--model", args.model), ("--stub-response", args.stub_response)):
        if value is not None:
            argv += [flag, value]
    if args.stub_script is not None:
        argv += ["--stub-script", args.stub_script]
    from ail_tui.temporal_commands import backend, backend_argv

    target = backend(args)
    argv += backend_argv(target or None)
    try:
        run_id = launch(argv)
    except LaunchFailed as error:
        if error.code is None:
            sys.stderr.write(f"ail-tui: could not start the run: {error}\n")
        return error.code or EXIT_INVALID
    sys.stdout.write(run_id + "\n")
    return EXIT_OK


def cmd_log(ref: str | None, output_format: str, follow: bool = False) -> int:
    """Show one run (default: the newest of this project); exit 1 when there is none.
    ``follow``: go on showing its turns as they finish, until the run ends (exit 0)."""
    from ail_tui.files import FileReadError, read_file_bytes
    from ail_tui.turnlog.markdown import format_ail_log, format_json, format_timeline
    from ail_tui.turnlog.reader import MAX_TURN_LOG_BYTES, read_run
    from ail_tui.turnlog.store import find_run

    path = find_run(ref)
    if path is None:
        what = f"run '{ref}'" if ref else "runs"
        sys.stderr.write(f"ail-tui: no {what} found for this directory "
                         f"({Path.cwd()})\n")
        return EXIT_INVALID
    try:
        if follow:
            from ail_tui.turnlog.follow import follow_run

            for text in follow_run(path, output_format):
                sys.stdout.write(text)
                sys.stdout.flush()
            return EXIT_OK
        if output_format == "raw":
            raw = read_file_bytes(path, MAX_TURN_LOG_BYTES, "turn logs")
            sys.stdout.write(raw.decode("utf-8", "replace"))
            return EXIT_OK
        run = read_run(path)
    except BrokenPipeError:
        raise  # the reader of --follow went away: not a read error (see run())
    except (OSError, FileReadError) as exc:
        sys.stderr.write(f"ail-tui: cannot read {path}: {exc}\n")
        return EXIT_UNREADABLE
    if output_format == "json":
        sys.stdout.write(json.dumps(format_json(run), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_ail_log(run) + "\n" + format_timeline(run))
    return EXIT_OK


def cmd_logs(output_format: str, limit: int, query: str | None = None,
             tail: int | None = None) -> int:
    """List this project's runs, newest first; say which ``ail-tui resume`` can continue.

    ``query``: only runs whose prompts, responses or thinking match it (full text, through
    ``ail.db``). ``tail``: the last ``tail`` runs, oldest first, then each run as it starts
    or its status changes, until interrupted.
    """
    import sqlite3

    from ail_tui.turnlog.store import list_runs

    select = _matching(query)
    try:
        if tail is not None:
            return _tail_logs(output_format, tail, select)
        runs = select(list_runs())[:limit]
    except sqlite3.Error as exc:
        sys.stderr.write(f"ail-tui: cannot search ail.db: {exc}\n")
        return EXIT_INVALID
    if output_format == "json":
        sys.stdout.write(json.dumps([_run_json(r) for r in runs], indent=2) + "\n")
        return EXIT_OK
    if not runs:
        sys.stdout.write(f"no runs match '{query}'\n" if query is not None
                         else "no runs yet for this directory\n")
        return EXIT_OK
    width = max(len(r.status_text) for r in runs)
    sys.stdout.writelines(_run_line(r, width) for r in runs)
    if any(r.resumable for r in runs):
        sys.stdout.write("resumable: continue one with ail-tui resume RUN_ID\n")
    return EXIT_OK


def _matching(query: str | None) -> Callable[[list[RunSummary]], list[RunSummary]]:
    """The runs of a list that ``query`` finds in ``ail.db`` (all of them: no query)."""
    if query is None:
        return list
    from ail_tui.turnlog.ail_db import matching_runs
    from ail_tui.turnlog.paths import project_db

    def select(runs: list[RunSummary]) -> list[RunSummary]:
        found = matching_runs(project_db(), query)
        return [r for r in runs if r.run_id in found]
    return select


def _tail_logs(output_format: str, count: int,
               select: Callable[[list[RunSummary]], list[RunSummary]]) -> int:
    from ail_tui.turnlog.follow import tail_runs

    for runs in tail_runs(count, select):
        if output_format == "json":
            sys.stdout.writelines(json.dumps(_run_json(r)) + "\n" for r in runs)
        else:
            sys.stdout.writelines(_run_line(r, len("? interrupted · resumable")) for r in runs)
        sys.stdout.flush()
    return EXIT_OK


def _run_json(r: RunSummary) -> dict[str, object]:
    from ail_tui.turnlog.markdown import json_times

    return {"run_id": r.run_id, "status": r.status, "resumable": r.resumable,
            "resumes": json_times(list(r.resumes)), "pipeline_source": r.pipeline_source,
            "started_at": r.started_at, "duration_s": r.duration,
            "total_cost_usd": r.total_cost, "steps": dict(r.step_counts)}


def _run_line(r: RunSummary, width: int) -> str:
    from ail_tui.turnlog.store import local_time

    took = f"{r.duration:.1f}s" if r.duration is not None else "-"
    counts = " ".join(f"{k} {v}" for k, v in sorted(r.step_counts.items()))
    source = display_path(r.pipeline_source) if r.pipeline_source else "?"
    return (f"[{local_time(r.started_at)}] {r.run_id}  {r.status_text:<{width}} "
            f"{took:>7}  ${r.total_cost:.4f}  {counts}  {source}\n")


def cmd_delete(ref: str) -> int:
    """Delete a run: its turn log and its rows in ``ail.db``; a live run is refused.
    Exit 1 when no single run matches or it is live, 2 when it could not be deleted."""
    import sqlite3

    from ail_tui.orchestration.live_runs import find_live_run
    from ail_tui.turnlog.liveness import is_being_written
    from ail_tui.turnlog.paths import runs_dir
    from ail_tui.turnlog.store import delete_run, resolve_run_id

    run_id = resolve_run_id(ref)
    if run_id is None:
        sys.stderr.write(f"ail-tui: no single run matches '{ref}' in this directory "
                         f"({Path.cwd()})\n")
        return EXIT_INVALID
    live = find_live_run(run_id)
    if is_being_written(runs_dir() / f"{run_id}.jsonl") or (live and live.alive):
        sys.stderr.write(f"ail-tui: run {run_id} is still running; cancel it first "
                         f"(ail-tui cancel {run_id})\n")
        return EXIT_INVALID
    try:
        deleted = delete_run(run_id)
    except (OSError, sqlite3.Error) as exc:
        sys.stderr.write(f"ail-tui: could not delete run {run_id}: {exc}\n")
        return EXIT_UNREADABLE
    sys.stdout.write(f"deleted run {run_id}\n  turn log: {deleted.log or 'none'}\n"
                     f"  ail.db:   {deleted.rows} rows ({deleted.db})\n")
    return EXIT_OK


def cmd_compare(first: str, second: str, output_format: str) -> int:
    """Compare two runs step by step; exit 1 when one is not found, 2 when unreadable."""
    from ail_tui.run_compare import compare_logs, format_json, format_text
    from ail_tui.turnlog.store import find_run

    paths = []
    for ref in (first, second):
        path = find_run(ref)
        if path is None:
            sys.stderr.write(f"ail-tui: no run '{ref}' found for this directory "
                             f"({Path.cwd()})\n")
            return EXIT_INVALID
        paths.append(path)
    try:
        comparison = compare_logs(*paths)
    except OSError as exc:
        sys.stderr.write(f"ail-tui: cannot read a run: {exc}\n")
        return EXIT_UNREADABLE
    if output_format == "json":
        sys.stdout.write(json.dumps(format_json(comparison), indent=2, ensure_ascii=False)
                         + "\n")
    else:
        sys.stdout.write(format_text(comparison))
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Open the dashboard on a pipeline (or a turn log with --log)."""
    if args.print_config:
        from ail_tui.tui.user_settings import load

        sys.stdout.write(load().toml())
        return EXIT_OK
    from ail_tui.engine.recorded_run import RecordedRun
    from ail_tui.tui.app import run_dashboard

    if args.pipeline is None and args.log is None:
        args.pipeline = _find_pipeline(None)
    problem = _cannot_open(args)
    if problem is not None:
        sys.stderr.write(problem)
        return EXIT_UNREADABLE
    replay = None
    if args.log is not None:
        try:
            replay = RecordedRun.read(args.log)
        except OSError as exc:
            sys.stderr.write(f"ail-tui: cannot read '{args.log}': {exc.strerror or exc}\n")
            return EXIT_UNREADABLE
    chosen = _runners(args)
    if chosen is None:
        return EXIT_UNREADABLE
    runner, runners = chosen
    from ail_tui.temporal_commands import backend

    orchestration = backend(args)
    if orchestration is False:
        return EXIT_UNREADABLE
    return run_dashboard(
        args.pipeline, prompt=args.prompt, runner=runner, model=args.model, runners=runners,
        watch_run=args.watch_run, replay=replay, orchestration=orchestration,
    )


def _cannot_open(args: argparse.Namespace) -> str | None:
    """Why the dashboard cannot open what ``args`` name (None: it can)."""
    if args.pipeline is None and args.log is None:
        return "ail-tui: give a pipeline file (or --log FILE); see ail-tui --help\n"
    if args.pipeline is not None and not Path(args.pipeline).is_file():
        why = "is a directory" if Path(args.pipeline).is_dir() else "no such file"
        return f"ail-tui: cannot open '{args.pipeline}': {why}\n"
    return None


def cmd_serve(args: Sequence[str]) -> int:
    """Serve the dashboard (or ``attach RUN_ID``) on a web page; the dashboard's options
    are checked first, here, as the dashboard checks them."""
    from ail_tui.serve_command import serve

    options, app_args = _subcommand_parser().parse_known_args(args)
    if options.attach is not None:
        if app_args:
            sys.stderr.write(f"ail-tui serve: --attach takes no dashboard options: "
                             f"{' '.join(app_args)}\n")
            return EXIT_UNREADABLE
        from ail_tui.detached_commands import known_run

        if not known_run(options.attach):
            return EXIT_INVALID
        app_args = ["attach", options.attach]
    else:
        dashboard = _dashboard_parser().parse_args(app_args)
        if dashboard.pipeline is None and dashboard.log is None:
            dashboard.pipeline = _find_pipeline(None)
            if dashboard.pipeline is not None:  # each session opens the one found now
                app_args = [dashboard.pipeline, *app_args]
        problem = _cannot_open(dashboard)
        if problem is not None:
            sys.stderr.write(problem)
            return EXIT_UNREADABLE
        if _runners(dashboard) is None:
            return EXIT_UNREADABLE
    return serve(app_args, options.host, options.port, options.public_url)


def _subcommand_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ail-tui",
        usage=_USAGE,
        description="Validate, run and supervise AIL pipelines (.ail.yaml).",
        epilog="ail-tui PIPELINE opens the dashboard on PIPELINE; "
               "'ail-tui PIPELINE --help' lists its options.",
    )
    parser.add_argument("--version", action="version", version=f"ail-tui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    validate = commands.add_parser(
        "validate", help="check a pipeline file and report every problem with its position"
    )
    validate.add_argument("pipeline", metavar="PIPELINE", nargs="?", help=_PIPELINE_HELP)
    validate.add_argument("--format", choices=("text", "json"), default="text",
                          help="output format (default: text)")
    run = commands.add_parser("run", help="run a pipeline in the dashboard (or headless, "
                              "NDJSON events on stdout)")
    run.add_argument("pipeline", metavar="PIPELINE", nargs="?", help=_PIPELINE_HELP)
    how = run.add_mutually_exclusive_group()
    how.add_argument("--headless", action="store_true",
                     help="no dashboard: print events as NDJSON on stdout")
    how.add_argument("--detach", action="store_true",
                     help="run in the background, in a process of its own: print the run "
                          "id and return (see ail-tui ps, attach, cancel)")
    how.add_argument("--serve-fd", type=int, help=argparse.SUPPRESS)
    how.add_argument("--dry-run", action="store_true",
                     help="run nothing: show each step's runner, model, resolved prompt or "
                          "command, condition and dependencies")
    run.add_argument("--format", choices=("text", "json"), default="text",
                     help="--dry-run output format (default: text)")
    _add_run_options(run)
    from ail_tui.temporal_commands import add_commands as add_temporal_commands

    _add_orchestration_options(run)
    from ail_tui.continue_commands import add_arguments

    resume = commands.add_parser("resume", help="go on with a run that crashed, failed or "
                                 "was cancelled, in its own log: finished steps are reused")
    rerun = commands.add_parser("rerun", help="run a pipeline again as a new run, reusing "
                                "an earlier run's results that still hold")
    add_arguments(resume, rerun)
    _add_run_options(resume)
    _add_run_options(rerun)
    log = commands.add_parser("log", help="show a run's turn log (default: the newest)")
    log.add_argument("run", nargs="?", metavar="RUN_ID|PATH",
                     help="a run id, a unique prefix of one, or a .jsonl path")
    log.add_argument("--format", choices=("markdown", "json", "raw"), default="markdown")
    log.add_argument("--follow", action="store_true",
                     help="go on showing the run's turns as they finish, until it ends")
    logs = commands.add_parser("logs", help="list this project's runs, newest first")
    logs.add_argument("--format", choices=("text", "json"), default="text")
    logs.add_argument("--limit", type=int, default=20)
    logs.add_argument("--query", metavar="TEXT",
                      help="only runs whose prompts or responses match TEXT (full-text "
                           "search in ail.db: words, \"a phrase\", a OR b, pre*)")
    logs.add_argument("--tail", type=int, nargs="?", const=20, metavar="N",
                      help="the last N runs (default 20), oldest first, then each run as it "
                           "starts or ends, until Ctrl-C")
    delete = commands.add_parser("delete", help="delete a run: its turn log and its rows "
                                 "in ail.db (not while it runs)")
    delete.add_argument("run", metavar="RUN_ID", help="a run id or a unique prefix of one")
    compare = commands.add_parser("compare", help="compare two runs step by step: status, "
                                  "time, cost, and a diff of their responses")
    for name in ("run_a", "run_b"):
        compare.add_argument(name, metavar="RUN_ID|PATH",
                             help="a run id, a unique prefix of one, or a .jsonl path")
    compare.add_argument("--format", choices=("text", "json"), default="text")
    from ail_tui.detached_commands import add_commands

    add_commands(commands)
    from ail_tui.serve_command import add_command as add_serve_command

    add_serve_command(commands)
    add_temporal_commands(commands)
    return parser


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prompt", help="the invocation prompt ({{ step.invocation.prompt }})")
    parser.add_argument("--runner", help="default runner: claude, http, ollama, stub "
                        "(default: $AIL_DEFAULT_RUNNER or claude)")
    parser.add_argument("--model", help="model for every prompt step")
    parser.add_argument("--stub-response", metavar="TEXT",
                        help="the stub runner's answer (implies --runner stub)")
    parser.add_argument("--stub-script", metavar="FILE",
                        help="per-step stub responses, delays and errors (implies --runner stub)")


def _add_orchestration_options(parser: argparse.ArgumentParser) -> None:
    from ail_tui.temporal_commands import add_target_options

    parser.add_argument("--orchestration", metavar="BACKEND",
                        help="where the run's steps execute: direct (this process) or "
                             "temporal (workers of a Temporal service) "
                             "(default: $AIL_ORCHESTRATION or direct)")
    add_target_options(parser)


def _dashboard_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ail-tui",
        usage=_USAGE,
        description="Open the dashboard on a pipeline. Commands: "
                    + ", ".join(SUBCOMMANDS) + " (ail-tui COMMAND --help).",
    )
    parser.add_argument("--version", action="version", version=f"ail-tui {__version__}")
    parser.add_argument("pipeline", metavar="PIPELINE", nargs="?",
                        help="path to a .ail.yaml file")
    parser.add_argument("--log", metavar="FILE",
                        help="open a turn log (ours or the Rust ail's) for inspection")
    parser.add_argument("--watch-run", action="store_true",
                        help="re-run automatically after each valid save")
    parser.add_argument("--print-config", action="store_true",
                        help="print the settings in effect (keymap, theme, default pane) "
                             "and where they are read from, then exit")
    _add_run_options(parser)
    _add_orchestration_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "serve":  # the dashboard's options are passed on
        return cmd_serve(args)
    if args and args[0] in SUBCOMMANDS:
        options = _subcommand_parser().parse_args(args)
        if options.command in ("validate", "run"):
            options.pipeline = _find_pipeline(options.pipeline)
            if options.pipeline is None:
                return EXIT_UNREADABLE
        if options.command == "run":
            return cmd_run(options)
        if options.command in ("resume", "rerun"):
            from ail_tui.continue_commands import cmd_continue

            return cmd_continue(options, resume=options.command == "resume",
                                runners=_runners(options))
        if options.command == "log":
            return cmd_log(options.run, options.format, options.follow)
        if options.command == "logs":
            return cmd_logs(options.format, options.limit, options.query, options.tail)
        if options.command == "delete":
            return cmd_delete(options.run)
        if options.command == "compare":
            return cmd_compare(options.run_a, options.run_b, options.format)
        if options.command in ("worker", "dev-server"):
            from ail_tui.temporal_commands import cmd_dev_server, cmd_worker

            return (cmd_worker if options.command == "worker" else cmd_dev_server)(options)
        if options.command in LIVE_RUN_COMMANDS:
            from ail_tui.detached_commands import main as live_run_command

            return live_run_command(options)
        return cmd_validate(options.pipeline, options.format)
    if not args or args[0] in ("-h", "--help"):
        if not args and (found := _find_pipeline(None)) is not None:
            return cmd_dashboard(_dashboard_parser().parse_args([found]))
        _subcommand_parser().print_help()
        return EXIT_OK if args else EXIT_UNREADABLE
    options = _dashboard_parser().parse_args(args)
    return cmd_dashboard(options)


def _reopen_closed_streams() -> None:
    """A stream closed by the caller (``ail-tui run ... >&-``) goes to /dev/null instead."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def run() -> None:
    """Console-script entry point."""
    _reopen_closed_streams()
    try:
        code = main()
        sys.stdout.flush()
        sys.stderr.flush()
        if (sys.argv[1:2] and sys.argv[1] in READ_ONLY) or must_exit_now():
            exit_now(code)
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader went away (``ail-tui validate x | head``): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 1
    sys.exit(code)
