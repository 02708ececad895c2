"""The options every `nmctl` command shares, and the helpers that read them.

Command modules import from here and never from each other, so each command
group stays one module that can be read (and changed) alone. `nmd` uses
`add_backend_options` too, so the daemon and `nmctl cycle --local` reach the
sandbox the same way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from daemon.paths import PROJECT_ROOT, state_dir, targets_dir
from daemon.registry import Registry, load_registry
from sandbox.backend import BACKENDS


def _escape(text: str) -> str:
    return text.replace("%", "%%")  # argparse formats help with %


STATE_HELP = _escape(
    "state directory (default: $NEUROMUTANT_STATE, else systemd's $STATE_DIRECTORY, "
    f"else {PROJECT_ROOT / 'state'})"
)
TARGETS_HELP = _escape(
    f"folder of target files (default: $NEUROMUTANT_TARGETS, else {PROJECT_ROOT / 'targets'})"
)

Commands = argparse._SubParsersAction
"""What `add_parsers` of each command module registers its commands on."""


def add_state(parser: argparse.ArgumentParser) -> None:
    """--state: where the database, the bots' repositories and the locks live."""
    parser.add_argument("--state", default=None, metavar="DIR", help=STATE_HELP)


def add_targets(parser: argparse.ArgumentParser) -> None:
    """--targets: the folder of target files (``NAME.toml``)."""
    parser.add_argument("--targets", default=None, metavar="DIR", help=TARGETS_HELP)


def add_location(parser: argparse.ArgumentParser) -> None:
    """--targets and --state: what every command about a registered target needs."""
    add_targets(parser)
    add_state(parser)


def add_json(parser: argparse.ArgumentParser, what: str = "print the result as JSON") -> None:
    """--json: machine-readable output; a failure is then ``{"ok": false, "error": ...}``."""
    parser.add_argument("--json", action="store_true", help=what)


def add_backend_options(parser: argparse.ArgumentParser, *, image: bool = True) -> None:
    """--backend, --allow-bwrap, --state (and --image): how to reach the sandbox."""
    parser.add_argument(
        "--backend", choices=BACKENDS, default="docker", help="sandbox backend (default: docker)"
    )
    parser.add_argument(
        "--allow-bwrap",
        action="store_true",
        help="fall back to bubblewrap (weaker isolation) if Docker is unusable",
    )
    if image:
        parser.add_argument(
            "--image",
            default=None,
            metavar="TAG",
            help="Docker image tag instead of the default offline image",
        )
    add_state(parser)


def state(args: argparse.Namespace) -> Path:
    """The state directory `args` names (created if missing)."""
    return state_dir(getattr(args, "state", None))


def registry(args: argparse.Namespace) -> Registry:
    """The target registry from `args`' --targets and --state."""
    return load_registry(targets_dir(getattr(args, "targets", None)), state(args))


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    """Print `data` as JSON with --json, else the human `text`."""
    print(json.dumps(data, indent=2) if args.json else text)
