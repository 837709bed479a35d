"""Command-line entry points: the dashboard, ``validate``, ``run``, ``resume``, ``rerun``,
``log``, ``logs``, and the live-run commands ``ps``, ``attach``, ``cancel``, ``answer``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ail_tui import __version__
from ail_tui.pipeline.validation import check_file
from ail_tui.report import display_path, is_unreadable, report_json, report_text

if TYPE_CHECKING:
    from ail_tui.runners.registry import RunnerFactory

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
SUBCOMMANDS = ("validate", "run", "resume", "rerun", "log", "logs", "ps", "attach", "cancel",
               "answer")
LIVE_RUN_COMMANDS = frozenset({"ps", "attach", "cancel", "answer"})
READ_ONLY = frozenset({"validate", "log", "logs", "ps"})
"""Commands that only read and print: once their output is flushed, nothing is left to
tear down, so the process exits without the interpreter's finalization (tens of ms)."""
_USAGE = ("ail-tui PIPELINE [options]\n       ail-tui {validate,run,resume,rerun,log,logs,"
          "ps,attach,cancel,answer} ...")


def _use_colour(stream: object) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def cmd_validate(path: str, output_format: str) -> int:
    """Validate a pipeline file; exit 0 valid, 1 invalid, 2 when the file can't be read."""
    result = check_file(path)
    shown = display_path(path)
    if output_format == "json":
        sys.stdout.write(json.dumps(report_json(result), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report_text(result, shown, colour=_use_colour(sys.stdout)))
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
    runner = args.runner
    if runner is None and (args.stub_script is not None or args.stub_response is not None):
        runner = "stub"
    return runner, RunnerFactory(args.stub_response or DEFAULT_RESPONSE, script)


def cmd_run(args: argparse.Namespace) -> int:
    """Run a pipeline headless: NDJSON events on stdout; exit 0, 1, or 130 on Ctrl-C."""
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
                             model=args.model, runners=runners, autorun=True)
    options = RunOptions(prompt=args.prompt, runner=runner, model=args.model, runners=runners,
                         interactive=args.serve_fd is not None)  # A5: gates wait for a person
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
    try:
        run_id = launch(argv)
    except LaunchFailed as error:
        if error.code is None:
            sys.stderr.write(f"ail-tui: could not start the run: {error}\n")
        return error.code or EXIT_INVALID
    sys.stdout.write(run_id + "\n")
    return EXIT_OK


def cmd_log(ref: str | None, output_format: str) -> int:
    """Show one run (default: the newest of this project); exit 1 when there is none."""
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
        if output_format == "raw":
            raw = read_file_bytes(path, MAX_TURN_LOG_BYTES, "turn logs")
            sys.stdout.write(raw.decode("utf-8", "replace"))
            return EXIT_OK
        run = read_run(path)
    except (OSError, FileReadError) as exc:
        sys.stderr.write(f"ail-tui: cannot read {path}: {exc}\n")
        return EXIT_UNREADABLE
    if output_format == "json":
        sys.stdout.write(json.dumps(format_json(run), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_ail_log(run) + "\n" + format_timeline(run))
    return EXIT_OK


def cmd_logs(output_format: str, limit: int) -> int:
    """List this project's runs, newest first; say which ``ail-tui resume`` can continue."""
    from ail_tui.turnlog.markdown import json_times
    from ail_tui.turnlog.store import list_runs, local_time

    runs = list_runs()[:limit]
    if output_format == "json":
        sys.stdout.write(json.dumps([
            {"run_id": r.run_id, "status": r.status, "resumable": r.resumable,
             "resumes": json_times(list(r.resumes)), "pipeline_source": r.pipeline_source,
             "started_at": r.started_at, "duration_s": r.duration, "total_cost_usd":
             r.total_cost, "steps": dict(r.step_counts)} for r in runs], indent=2) + "\n")
        return EXIT_OK
    if not runs:
        sys.stdout.write("no runs yet for this directory\n")
        return EXIT_OK
    width = max(len(r.status_text) for r in runs)
    for r in runs:
        took = f"{r.duration:.1f}s" if r.duration is not None else "-"
        counts = " ".join(f"{k} {v}" for k, v in sorted(r.step_counts.items()))
        source = display_path(r.pipeline_source) if r.pipeline_source else "?"
        sys.stdout.write(f"[{local_time(r.started_at)}] {r.run_id}  {r.status_text:<{width}} "
                         f"{took:>7}  ${r.total_cost:.4f}  {counts}  {source}\n")
    if any(r.resumable for r in runs):
        sys.stdout.write("resumable: continue one with ail-tui resume RUN_ID\n")
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
        sys.stderr.write("ail-tui: give a pipeline file (or --log FILE); see ail-tui --help\n")
        return EXIT_UNREADABLE
    if args.pipeline is not None and not Path(args.pipeline).is_file():
        why = "is a directory" if Path(args.pipeline).is_dir() else "no such file"
        sys.stderr.write(f"ail-tui: cannot open '{args.pipeline}': {why}\n")
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
    return run_dashboard(
        args.pipeline, prompt=args.prompt, runner=runner, model=args.model, runners=runners,
        watch_run=args.watch_run, replay=replay,
    )


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
    validate.add_argument("pipeline", metavar="PIPELINE", help="path to a .ail.yaml file")
    validate.add_argument("--format", choices=("text", "json"), default="text",
                          help="output format (default: text)")
    run = commands.add_parser("run", help="run a pipeline in the dashboard (or headless, "
                              "NDJSON events on stdout)")
    run.add_argument("pipeline", metavar="PIPELINE", help="path to a .ail.yaml file")
    how = run.add_mutually_exclusive_group()
    how.add_argument("--headless", action="store_true",
                     help="no dashboard: print events as NDJSON on stdout")
    how.add_argument("--detach", action="store_true",
                     help="run in the background, in a process of its own: print the run "
                          "id and return (see ail-tui ps, attach, cancel)")
    how.add_argument("--serve-fd", type=int, help=argparse.SUPPRESS)
    _add_run_options(run)
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
    logs = commands.add_parser("logs", help="list this project's runs, newest first")
    logs.add_argument("--format", choices=("text", "json"), default="text")
    logs.add_argument("--limit", type=int, default=20)
    from ail_tui.detached_commands import add_commands

    add_commands(commands)
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        options = _subcommand_parser().parse_args(args)
        if options.command == "run":
            return cmd_run(options)
        if options.command in ("resume", "rerun"):
            from ail_tui.continue_commands import cmd_continue

            return cmd_continue(options, resume=options.command == "resume",
                                runners=_runners(options))
        if options.command == "log":
            return cmd_log(options.run, options.format)
        if options.command == "logs":
            return cmd_logs(options.format, options.limit)
        if options.command in LIVE_RUN_COMMANDS:
            from ail_tui.detached_commands import main as live_run_command

            return live_run_command(options)
        return cmd_validate(options.pipeline, options.format)
    if not args or args[0] in ("-h", "--help"):
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
        if sys.argv[1:2] and sys.argv[1] in READ_ONLY:
            os._exit(code)
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader went away (``ail-tui validate x | head``): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 1
    sys.exit(code)
