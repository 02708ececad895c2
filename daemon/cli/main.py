"""`nmctl`: the command line of Neuromutant.

Each command group is one module with `add_parsers`; this one builds the
parser and turns every expected failure into one line (``nmctl: why``), or a
JSON error object for scripts, so a traceback always means a bug.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback

from daemon import logs
from daemon.cli import (
    cluster,
    control,
    cycle,
    history,
    sandbox,
    service,
    targets,
    trigger,
    watch,
)
from daemon.errors import Error
from policies.errors import Error as PoliciesError
from sandbox.errors import Error as SandboxError

EXPECTED = (Error, SandboxError, PoliciesError)
"""The roots of every error that says what is wrong: shown as one line, not a traceback."""

GROUPS = (targets, cycle, history, control, watch, trigger, sandbox, cluster, service)
"""The command modules, in the order `nmctl --help` lists their commands."""


def build_parser() -> argparse.ArgumentParser:
    """The full `nmctl` argument parser."""
    parser = argparse.ArgumentParser(
        prog="nmctl",
        description="Control Neuromutant: the targets, their cycles and history, the "
        "running nmd, and the sandbox. Every command has --help; those that report have "
        "--json.",
        epilog="Errors are one line on stderr, exit status 1 (with --json, also "
        '{"ok": false, "error": ...} on stdout); --debug shows the traceback instead.',
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug lines")
    parser.add_argument(
        "--debug", action="store_true", help="on an error, print its traceback, not one line"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `nmctl` console script: 0 ok, 1 failed, 130 interrupted."""
    args = build_parser().parse_args(argv)
    logs.setup(args.verbose)
    try:
        return args.func(args)
    except EXPECTED as exc:
        report(args, exc)
        return 1
    except KeyboardInterrupt:
        return 130


def report(args: argparse.Namespace, exc: BaseException) -> None:
    """Say what failed: one line on stderr (the traceback with --debug), JSON with --json."""
    message = str(exc) or type(exc).__name__
    if args.debug:
        traceback.print_exception(exc, file=sys.stderr)
    else:
        lines = [line.strip() for line in message.splitlines() if line.strip()]
        print(f"nmctl: {'; '.join(lines)}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"ok": False, "error": message}))


if __name__ == "__main__":
    sys.exit(main())
