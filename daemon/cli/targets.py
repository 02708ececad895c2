"""`nmctl targets ...`: list, show, check and add target files."""

from __future__ import annotations

import argparse
import json
import os
import tomllib
from pathlib import Path
from typing import Any

from daemon.errors import Error
from daemon.paths import state_dir, targets_dir
from daemon.registry import CodeTarget, TargetConfig, load_registry, render


def add_common(parser: argparse.ArgumentParser) -> None:
    """--targets and --state: where target files and state live."""
    parser.add_argument(
        "--targets", default=None, help="folder of target files (default: ./targets)"
    )
    parser.add_argument("--state", default=None, help="state directory (default: ./state)")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register `nmctl targets` and its subcommands."""
    targets = commands.add_parser(
        "targets",
        help="list, show, check and add targets",
        description="Manage the target files in targets/.",
    )
    sub = targets.add_subparsers(dest="targets_command", required=True, metavar="COMMAND")

    listing = sub.add_parser("list", help="the registered targets, and broken files")
    add_common(listing)
    listing.add_argument("--json", action="store_true", help="print as JSON")
    listing.set_defaults(func=cmd_list)

    show = sub.add_parser("show", help="one target, with every default filled in")
    show.add_argument("name")
    add_common(show)
    show.add_argument("--json", action="store_true", help="print as JSON")
    show.set_defaults(func=cmd_show)

    check = sub.add_parser("check", help="validate target files; exit 1 if any is invalid")
    check.add_argument("name", nargs="?", help="only this target (default: all)")
    add_common(check)
    check.add_argument("--json", action="store_true", help="print as JSON")
    check.set_defaults(func=cmd_check)

    add = sub.add_parser(
        "add",
        help="write a new target file",
        description="Write targets/NAME.toml for a code target and validate it.",
    )
    add.add_argument("name")
    add.add_argument("--repo", required=True, help="path of the bot's git repository")
    add.add_argument(
        "--files",
        nargs="+",
        required=True,
        metavar="GLOB",
        help="globs (relative to the repo) of the files that may be rewritten",
    )
    add.add_argument(
        "--tests",
        nargs="+",
        default=["tests"],
        metavar="ARG",
        help="pytest arguments, relative to the repo (default: tests)",
    )
    add.add_argument("--every", default="15m", help="schedule interval (default: 15m)")
    add.add_argument("--force", action="store_true", help="overwrite an existing file")
    add_common(add)
    add.set_defaults(func=cmd_add)


def _describe(config: TargetConfig, repo: Path) -> dict[str, Any]:
    return {**config.model_dump(mode="json"), "repo_path": str(repo)}


def cmd_list(args: argparse.Namespace) -> int:
    """`nmctl targets list`."""
    registry = load_registry(targets_dir(args.targets), state_dir(args.state))
    if args.json:
        print(
            json.dumps(
                {
                    "targets": {
                        n: _describe(s.config, s.repo) for n, s in registry.targets.items()
                    },
                    "errors": {str(p): str(e) for p, e in registry.errors.items()},
                },
                indent=2,
            )
        )
        return 0
    if not registry.targets and not registry.errors:
        print(f"no targets in {registry.folder}; add one with `nmctl targets add`")
    for name, spec in registry.targets.items():
        config = spec.config
        what = (
            f"files={list(config.files)}"
            if isinstance(config, CodeTarget)
            else f"env={config.env} weights={config.weights}"
        )
        print(f"{name:<16} {config.kind:<7} {spec.repo}  {what}")
    for error in registry.errors.values():
        print(f"INVALID {error}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """`nmctl targets show NAME`."""
    registry = load_registry(targets_dir(args.targets), state_dir(args.state))
    spec = registry.get(args.name)
    if args.json:
        print(json.dumps(_describe(spec.config, spec.repo), indent=2))
    else:
        print(f"# {spec.source}\n# repository: {spec.repo}\n{render(spec.config)}", end="")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """`nmctl targets check [NAME]`: exit 1 when a file is invalid."""
    registry = load_registry(targets_dir(args.targets), state_dir(args.state))
    if args.name:
        registry.get(args.name)  # raises the file's error, or "no target named ..."
        good, bad = [args.name], []
    else:
        good, bad = list(registry.targets), [str(e) for e in registry.errors.values()]
    if args.json:
        print(json.dumps({"valid": good, "invalid": bad}, indent=2))
    else:
        for name in good:
            print(f"ok       {name}")
        for error in bad:
            print(f"INVALID  {error}")
    return 1 if bad else 0


def cmd_add(args: argparse.Namespace) -> int:
    """`nmctl targets add NAME --repo PATH --files GLOB...`: write, validate, or write nothing."""
    folder = targets_dir(args.targets)
    path = folder / f"{args.name}.toml"
    if path.exists() and not args.force:
        raise Error(f"{path} exists already; use --force to overwrite it")
    repo = Path(args.repo).expanduser().resolve()
    if not (repo / ".git").exists():
        raise Error(f"--repo {args.repo}: {repo} is not a git repository")
    try:
        config = CodeTarget.model_validate(
            {
                "name": args.name,
                "repo": os.path.relpath(repo, folder),
                "files": args.files,
                "tests": args.tests,
                "schedule": {"every": args.every},
            }
        )
    except Exception as exc:
        raise Error(f"nmctl targets add {args.name}: {exc}") from None
    text = render(config)
    if CodeTarget.model_validate(tomllib.loads(text)) != config:  # what we write reads back
        raise Error(f"nmctl targets add {args.name}: the rendered file does not read back")
    folder.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(text)
    os.replace(staging, path)  # atomic: no half-written target file, ever
    print(f"wrote {path}")
    return 0
