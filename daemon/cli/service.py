"""`nmctl service install`: write the systemd unit with this installation's paths."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from daemon.cli import options
from daemon.errors import Error
from daemon.paths import PROJECT_ROOT, targets_dir

TEMPLATE = PROJECT_ROOT / "systemd" / "nmd.service.in"


def add_parsers(commands: options.Commands) -> None:
    """Register `nmctl service install`."""
    service = commands.add_parser(
        "service",
        help="install nmd as a systemd service",
        description="Install nmd as a systemd service (Type=notify, watchdog, hardening; "
        "see systemd/README.md).",
    )
    sub = service.add_subparsers(dest="service_command", required=True, metavar="COMMAND")
    install = sub.add_parser(
        "install",
        help="write the unit file and print the systemctl commands",
        description="Write nmd.service with the paths of this installation (atomically), "
        "then print the systemctl commands that enable and start it. A system unit goes "
        "to /etc/systemd/system (root needed), a --user one to ~/.config/systemd/user.",
    )
    install.add_argument(
        "--user",
        action="store_true",
        help="a user unit (~/.config/systemd/user) instead of a system one",
    )
    options.add_targets(install)
    install.add_argument(
        "--print",
        action="store_true",
        dest="print_only",
        help="print the unit instead of writing it",
    )
    install.add_argument(
        "--dest",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the unit here instead of the systemd folder",
    )
    options.add_json(install, "print where the unit went and the commands to run as JSON")
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
        if args.json:
            options.emit(args, {"unit": unit}, "")
        else:
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
    commands = [
        f"{ctl} daemon-reload",
        f"{ctl} enable --now nmd",
        f"journalctl {'--user ' if args.user else ''}-u nmd -f",
    ]
    text = f"wrote {dest}\nnow run:\n" + "\n".join(f"  {c}" for c in commands)
    options.emit(args, {"wrote": str(dest), "commands": commands}, text)
    return 0
