"""`nmd`: the Neuromutant daemon.

Start-up prepares what every cycle relies on: the state directory, and a
sandbox backend that answers (which also reaps containers orphaned by a
crashed predecessor). Scheduling target cycles is built on top of this.
"""

from __future__ import annotations

import argparse
import logging
import sys

from sandbox.backend import open_backend
from sandbox.errors import Error as SandboxError

from . import logs
from .errors import Error
from .paths import state_dir
from .sandbox_cmd import add_backend_options

log = logging.getLogger("nmd")


def build_parser() -> argparse.ArgumentParser:
    """The `nmd` argument parser."""
    parser = argparse.ArgumentParser(prog="nmd", description="The Neuromutant daemon.")
    add_backend_options(parser, image=False)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug lines")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `nmd` console script: start-up checks, then report readiness."""
    args = build_parser().parse_args(argv)
    logs.setup(args.verbose)
    try:
        state = state_dir(args.state)
        backend = open_backend(state, args.backend, allow_bwrap_fallback=args.allow_bwrap)
    except (Error, SandboxError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    log.info("state in %s; sandbox backend %s ready", state, backend.name)
    log.error(
        "this build has no target scheduler yet: nothing to run; "
        "use `nmctl sandbox check` to exercise the sandbox"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
