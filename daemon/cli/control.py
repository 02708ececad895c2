"""`nmctl status`, `pause`, `resume` and `reload`: ask the running nmd.

These only talk to the daemon's control socket; without a running nmd they
fail with a one-line "nmd is not running".
"""

from __future__ import annotations

import argparse
from typing import Any

from daemon.cli import options
from daemon.service.control import call, socket_path


def add_parsers(commands: options.Commands) -> None:
    """Register the commands that talk to a running nmd."""
    status = commands.add_parser(
        "status",
        help="what the running nmd is doing",
        description="Each target of the running nmd: paused or not, "
        "running, next tick, and the last cycle.",
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


def _status_text(status: dict[str, Any]) -> str:
    lines = [f"nmd: {status['status']}"]
    for name, t in status["targets"].items():
        flags = ", ".join(f for f, on in (("paused", t["paused"]), ("running", t["running"])) if on)
        last = t["last"]
        last_text = f"last: cycle {last['cycle']} {last['status']}" if last else "no cycle yet"
        lines.append(
            f"  {name:<16} next {t['next_run'] or '-'}  {last_text}"
            + (f"  [{flags}]" if flags else "")
        )
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    """`nmctl status` and `nmctl reload`: both answer with the daemon's status."""
    status = call(socket_path(options.state(args)), {"cmd": args.request})
    options.emit(args, status, _status_text(status))
    return 0


def cmd_pause_resume(args: argparse.Namespace) -> int:
    """`nmctl pause NAME` and `nmctl resume NAME`."""
    target = call(socket_path(options.state(args)), {"cmd": args.verb, "name": args.name})
    options.emit(args, target, f"{args.name}: {args.verb}d")
    return 0
