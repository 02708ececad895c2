"""`nmctl status`, `pause`, `resume` and `reload`: ask the running nmd.

These only talk to the daemon's control socket; without a running nmd they
fail with a one-line "nmd is not running". The status text (each target, each
running cycle's progress and time left, each queued request) is also what
`nmctl watch` redraws.
"""

from __future__ import annotations

import argparse

from daemon.cli import options
from daemon.cli.progress import status_text
from daemon.service.control import call, socket_path


def add_parsers(commands: options.Commands) -> None:
    """Register the commands that talk to a running nmd."""
    status = commands.add_parser(
        "status",
        help="what the running nmd is doing",
        description="Each target of the running nmd: paused or not, running, next tick, "
        "and the last cycle; each running cycle's progress and an estimate of its "
        "remaining time (from its budget and its pace so far); each queued request "
        "(forced or scheduled, waiting since). `nmctl watch` refreshes it.",
    )
    _common(status)
    status.set_defaults(func=cmd_status, request="status")
    for verb, text in (
        ("pause", "stop ticking a target (a running cycle finishes; forced cycles still run)"),
        ("resume", "tick a paused target again"),
    ):
        sub = commands.add_parser(
            verb,
            help=text,
            description=f"{text[0].upper()}{text[1:]}. Lasts until nmd restarts.",
        )
        sub.add_argument("name", help="the target")
        _common(sub)
        sub.set_defaults(func=cmd_pause_resume, verb=verb)
    reload = commands.add_parser(
        "reload",
        help="make nmd read the target files again",
        description="Reload the target files now (nmd also does it by "
        "itself when they change, and on SIGHUP).",
    )
    _common(reload)
    reload.set_defaults(func=cmd_status, request="reload")


def _common(parser: argparse.ArgumentParser) -> None:
    options.add_state(parser)
    options.add_json(parser, "print nmd's answer as JSON")


def cmd_status(args: argparse.Namespace) -> int:
    """`nmctl status` and `nmctl reload`: both answer with the daemon's status."""
    status = call(socket_path(options.state(args)), {"cmd": args.request})
    options.emit(args, status, status_text(status))
    return 0


def cmd_pause_resume(args: argparse.Namespace) -> int:
    """`nmctl pause NAME` and `nmctl resume NAME`."""
    target = call(socket_path(options.state(args)), {"cmd": args.verb, "name": args.name})
    options.emit(args, target, f"{args.name}: {args.verb}d")
    return 0
