"""`nmctl watch`: `nmctl status`, refreshed until Ctrl-C.

In a terminal the view is redrawn in place; piped, each refresh is appended
after a time line (a log a person or a script can read back); with --json,
each refresh is one JSON object on its own line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from daemon.cli import options
from daemon.cli.progress import status_text
from daemon.errors import Error
from daemon.service.control import call, socket_path

REDRAW = "\033[H\033[2J"
"""Cursor home, then erase the screen: the next view replaces the last."""


def add_parsers(commands: options.Commands) -> None:
    """Register `watch`."""
    watch = commands.add_parser(
        "watch",
        help="follow the running nmd: progress, time left and queue, refreshed",
        description="Show `nmctl status` and refresh it every INTERVAL seconds until "
        "Ctrl-C: each running cycle's progress and remaining time, and each queued "
        "request. In a terminal the view is redrawn in place; otherwise each refresh is "
        "appended after a time line.",
    )
    options.add_state(watch)
    options.add_json(watch, "print each refresh as one line of JSON (nmd's status)")
    watch.add_argument(
        "-n",
        "--interval",
        type=float,
        default=2.0,
        help="seconds between two refreshes (default: 2)",
    )
    watch.add_argument(
        "--count", type=int, default=None, help="stop after this many refreshes (default: never)"
    )
    watch.set_defaults(func=cmd_watch)


def cmd_watch(args: argparse.Namespace) -> int:
    """`nmctl watch`: exit status 0 on Ctrl-C or after --count refreshes."""
    if not args.interval > 0:
        raise Error(f"--interval must be a positive number of seconds, not {args.interval}")
    if args.count is not None and args.count < 1:
        raise Error(f"--count must be at least 1, not {args.count}")
    path = socket_path(options.state(args))
    in_place = sys.stdout.isatty() and not args.json
    shown = 0
    try:
        while True:
            show(call(path, {"cmd": "status"}), sys.stdout, as_json=args.json, in_place=in_place)
            shown += 1
            if args.count is not None and shown >= args.count:
                return 0
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


def show(status: dict[str, Any], stream: TextIO, *, as_json: bool, in_place: bool) -> None:
    """Write one refresh of the view."""
    if as_json:
        stream.write(json.dumps(status) + "\n")
    elif in_place:
        stamp = time.strftime("%H:%M:%S")
        stream.write(f"{REDRAW}{status_text(status)}\n\n{stamp}  (Ctrl-C to stop)\n")
    else:
        stream.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n{status_text(status)}\n")
    stream.flush()
