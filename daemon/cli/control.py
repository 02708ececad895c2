"""`nmctl status`, `pause`, `resume` and `reload`: ask the running nmd."""

from __future__ import annotations

import argparse
import json
from typing import Any

from daemon.paths import state_dir
from daemon.service.control import call, socket_path


def add_parsers(commands: argparse._SubParsersAction) -> None:
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
        ("pause", "stop ticking a target (a running cycle finishes)"),
        ("resume", "tick a paused target again"),
    ):
        sub = commands.add_parser(verb, help=text, description=f"{text[0].upper()}{text[1:]}.")
        sub.add_argument("name")
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
    parser.add_argument("--state", default=None, help="state directory (default: ./state)")
    parser.add_argument("--json", action="store_true", help="print as JSON")


def _show_status(status: dict[str, Any]) -> None:
    print(f"nmd: {status['status']}")
    for name, t in status["targets"].items():
        flags = ", ".join(f for f, on in (("paused", t["paused"]), ("running", t["running"])) if on)
        last = t["last"]
        last_text = f"last: cycle {last['cycle']} {last['status']}" if last else "no cycle yet"
        print(
            f"  {name:<16} next {t['next_run'] or '-'}  {last_text}"
            + (f"  [{flags}]" if flags else "")
        )


def cmd_status(args: argparse.Namespace) -> int:
    """`nmctl status` and `nmctl reload`: both answer with the daemon's status."""
    status = call(socket_path(state_dir(args.state)), {"cmd": args.request})
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        _show_status(status)
    return 0


def cmd_pause_resume(args: argparse.Namespace) -> int:
    """`nmctl pause NAME` and `nmctl resume NAME`."""
    target = call(socket_path(state_dir(args.state)), {"cmd": args.verb, "name": args.name})
    print(json.dumps(target, indent=2) if args.json else f"{args.name}: {args.verb}d")
    return 0
