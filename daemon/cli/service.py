"""`nmctl service install`: write the systemd unit with this installation's paths."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from daemon.errors import Error
from daemon.paths import PROJECT_ROOT, targets_dir

TEMPLATE = PROJECT_ROOT / "systemd" / "nmd.service.in"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register `nmctl service install`."""
    service = commands.add_parser(
        "service",
        help="install nmd as a systemd service",
        description="Install nmd as a systemd service.",
    )
    sub = service.add_subparsers(dest="service_command", required=True, metavar="COMMAND")
    install = sub.add_parser(
        "install",
        help="write the unit file and print the systemctl commands",
        description="Write nmd.service with the paths of this installation, then print the "
        "systemctl commands that enable and start it.",
    )
    install.add_argument(
        "--user",
        action="store_true",
        help="a user unit (~/.config/systemd/user) instead of a system one",
    )
    install.add_argument(
        "--targets",
        default=None,
        help="folder of target files the service watches (default: ./targets)",
    )
    install.add_argument(
        "--print",
        action="store_true",
        dest="print_only",
        help="print the unit instead of writing it",
    )
    install.add_argument(
        "--dest", type=Path, default=None, help="write the unit here instead of the systemd folder"
    )
    install.set_defaults(func=cmd_install)


def render(*, user: bool, targets: Path) -> str:
    """The unit text for this installation."""
    nmd = shutil.which("nmd") or str(Path(sys.executable).with_name("nmd"))
    if not Path(nmd).exists():
        raise Error(f"cannot find the nmd executable (looked for {nmd}); install the project first")
    return TEMPLATE.read_text().format(
        root=PROJECT_ROOT,
        nmd=nmd,
        targets=targets,
        wanted_by="default.target" if user else "multi-user.target",
    )


def cmd_install(args: argparse.Namespace) -> int:
    """`nmctl service install`."""
    unit = render(user=args.user, targets=targets_dir(args.targets))
    if args.print_only:
        print(unit, end="")
        return 0
    folder = (Path.home() / ".config/systemd/user") if args.user else Path("/etc/systemd/system")
    dest = args.dest or folder / "nmd.service"
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.tmp")
    try:
        staging.write_text(unit)
        os.replace(staging, dest)  # atomic: never a half-written unit
    except PermissionError:
        staging.unlink(missing_ok=True)
        raise Error(
            f"cannot write {dest}: permission denied (run as root, or use --user)"
        ) from None
    ctl = "systemctl --user" if args.user else "systemctl"
    print(
        f"wrote {dest}\nnow run:\n  {ctl} daemon-reload\n  {ctl} enable --now nmd\n"
        f"  journalctl {'--user ' if args.user else ''}-u nmd -f"
    )
    return 0
