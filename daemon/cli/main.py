"""`nmctl`: the command line of Neuromutant."""

from __future__ import annotations

import argparse
import logging
import sys

from daemon import logs
from daemon.cli import control as control_cmd
from daemon.cli import cycle as cycle_cmd
from daemon.cli import sandbox as sandbox_cmd
from daemon.cli import service as service_cmd
from daemon.cli import targets as targets_cmd
from daemon.cli import trigger as policy_cmd
from daemon.errors import Error
from sandbox.errors import Error as SandboxError

log = logging.getLogger("nmctl")


def build_parser() -> argparse.ArgumentParser:
    """The full `nmctl` argument parser."""
    parser = argparse.ArgumentParser(
        prog="nmctl",
        description="Control Neuromutant: the sandbox, the targets, their cycles and history.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug lines")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    targets_cmd.add_parser(commands)
    cycle_cmd.add_parsers(commands)
    control_cmd.add_parsers(commands)
    policy_cmd.add_parser(commands)
    sandbox_cmd.add_parser(commands)
    service_cmd.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `nmctl` console script."""
    args = build_parser().parse_args(argv)
    logs.setup(args.verbose)
    try:
        return args.func(args)
    except (Error, SandboxError) as exc:
        print(f"nmctl: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
