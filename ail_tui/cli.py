"""Command-line entry points: the dashboard, ``validate``, ``run``, ``log`` and ``logs``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from ail_tui import __version__
from ail_tui.pipeline.diagnostics import ErrorType
from ail_tui.pipeline.validation import check_file
from ail_tui.report import display_path, report_json, report_text

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
SUBCOMMANDS = ("validate", "run")


def _use_colour(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def cmd_validate(path: str, output_format: str) -> int:
    """Validate a pipeline file; exit 0 valid, 1 invalid, 2 when the file can't be read."""
    result = check_file(path)
    shown = display_path(path)
    if output_format == "json":
        sys.stdout.write(json.dumps(report_json(result), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report_text(result, shown, colour=_use_colour(sys.stdout)))
    unreadable = result.pipeline is None and any(
        d.error_type == ErrorType.FILE_NOT_FOUND and d.position is None
        for d in result.diagnostics
    )
    if unreadable:
        return EXIT_UNREADABLE
    return EXIT_OK if result.valid else EXIT_INVALID


def cmd_run(args: argparse.Namespace) -> int:
    """Run a pipeline headless: NDJSON events on stdout; exit 0, 1, or 130 on Ctrl-C."""
    from ail_tui.engine.executor import RunOptions
    from ail_tui.headless import run_headless
    from ail_tui.runners.registry import RunnerFactory
    from ail_tui.runners.stub import DEFAULT_RESPONSE, StubScriptError, load_stub_script

    result = check_file(args.pipeline)
    if result.pipeline is None or not result.valid:
        sys.stderr.write(report_text(result, display_path(args.pipeline)))
        unreadable = result.pipeline is None and any(
            d.error_type == ErrorType.FILE_NOT_FOUND and d.position is None
            for d in result.diagnostics)
        return EXIT_UNREADABLE if unreadable else EXIT_INVALID
    if not args.headless:
        sys.stderr.write("ail-tui run: only --headless is available until the dashboard "
                         "lands; add --headless\n")
        return EXIT_UNREADABLE
    script = None
    if args.stub_script is not None:
        try:
            script = load_stub_script(args.stub_script)
        except StubScriptError as exc:
            sys.stderr.write(f"ail-tui: {exc}\n")
            return EXIT_UNREADABLE
    runner = args.runner
    if runner is None and (args.stub_script is not None or args.stub_response is not None):
        runner = "stub"
    options = RunOptions(
        prompt=args.prompt,
        runner=runner,
        model=args.model,
        runners=RunnerFactory(args.stub_response or DEFAULT_RESPONSE, script),
    )
    return run_headless(result.pipeline, options)


def _subcommand_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ail-tui",
        description="Validate, run and supervise AIL pipelines (.ail.yaml).",
    )
    parser.add_argument("--version", action="version", version=f"ail-tui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    validate = commands.add_parser(
        "validate", help="check a pipeline file and report every problem with its position"
    )
    validate.add_argument("pipeline", metavar="PIPELINE", help="path to a .ail.yaml file")
    validate.add_argument("--format", choices=("text", "json"), default="text",
                          help="output format (default: text)")
    run = commands.add_parser("run", help="run a pipeline (NDJSON events with --headless)")
    run.add_argument("pipeline", metavar="PIPELINE", help="path to a .ail.yaml file")
    run.add_argument("--headless", action="store_true",
                     help="no dashboard: print events as NDJSON on stdout")
    _add_run_options(run)
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
        usage="ail-tui PIPELINE [options]\n       ail-tui {validate} ...",
        description="Open the dashboard on a pipeline. Commands: "
                    + ", ".join(SUBCOMMANDS) + " (ail-tui COMMAND --help).",
    )
    parser.add_argument("--version", action="version", version=f"ail-tui {__version__}")
    parser.add_argument("pipeline", metavar="PIPELINE", help="path to a .ail.yaml file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        options = _subcommand_parser().parse_args(args)
        if options.command == "run":
            return cmd_run(options)
        return cmd_validate(options.pipeline, options.format)
    if not args or args[0] in ("-h", "--help"):
        _subcommand_parser().print_help()
        return EXIT_OK if args else EXIT_UNREADABLE
    options = _dashboard_parser().parse_args(args)
    sys.stderr.write("ail-tui: the dashboard is not built yet; validating instead.\n")
    return cmd_validate(options.pipeline, "text")


def run() -> None:
    """Console-script entry point."""
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
