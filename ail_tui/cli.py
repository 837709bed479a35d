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
SUBCOMMANDS = ("validate",)


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
    return parser


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
