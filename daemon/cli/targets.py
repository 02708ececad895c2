"""`nmctl targets ...`: list, show, check and add target files.

A target file (``targets/NAME.toml``) says what Neuromutant may improve and
how; these commands read them as `nmd` does, so a file that passes `check`
is one the daemon accepts.
"""

from __future__ import annotations

import argparse
import json
import os
import tomllib
from pathlib import Path
from typing import Any

from daemon.cli import options
from daemon.errors import Error
from daemon.paths import targets_dir
from daemon.registry import CodeTarget, TargetConfig, render


def add_parsers(commands: options.Commands) -> None:
    """Register `nmctl targets` and its subcommands."""
    targets = commands.add_parser(
        "targets",
        help="list, show, check and add targets",
        description="Read, validate and write the target files (NAME.toml) in the targets "
        "folder, as nmd reads them.",
    )
    sub = targets.add_subparsers(dest="targets_command", required=True, metavar="COMMAND")
    _add_list(sub)
    _add_show(sub)
    _add_check(sub)
    _add_add(sub)


def _add_list(sub: options.Commands) -> None:
    listing = sub.add_parser(
        "list",
        help="the registered targets, and broken files",
        description="Each valid target: name, kind, repository and what it improves; then "
        "each target file that does not validate, and why.",
    )
    options.add_location(listing)
    options.add_json(listing, "print the targets (every field) and the errors as JSON")
    listing.set_defaults(func=cmd_list)


def _add_show(sub: options.Commands) -> None:
    show = sub.add_parser(
        "show",
        help="one target, with every default filled in",
        description="Print NAME's target file as nmd reads it, with every default filled "
        "in, and where its repository is.",
    )
    show.add_argument("name", help="the target")
    options.add_location(show)
    options.add_json(show, "print the target's fields as JSON")
    show.set_defaults(func=cmd_show)


def _add_check(sub: options.Commands) -> None:
    check = sub.add_parser(
        "check",
        help="validate target files; exit 1 if any is invalid",
        description="Validate every target file (or only NAME's) and say what is wrong "
        "with each invalid one. Exit status 1 if any is invalid.",
    )
    check.add_argument("name", nargs="?", help="only this target (default: all)")
    options.add_location(check)
    options.add_json(check, "print the valid names and the errors as JSON")
    check.set_defaults(func=cmd_check)


def _add_add(sub: options.Commands) -> None:
    add = sub.add_parser(
        "add",
        help="write a new target file",
        description="Write NAME.toml in the targets folder for a code target, validated "
        "before it is written (nothing is written if it is invalid). Weights targets are "
        "written by hand: see docs/weights.md.",
    )
    add.add_argument("name", help="the new target's name")
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
    add.add_argument(
        "--every", default="15m", help="how often nmd considers a cycle (default: 15m)"
    )
    add.add_argument("--force", action="store_true", help="overwrite an existing file")
    options.add_location(add)
    options.add_json(add, "print the written file's path and fields as JSON")
    add.set_defaults(func=cmd_add)


def _describe(config: TargetConfig, repo: Path) -> dict[str, Any]:
    return {**config.model_dump(mode="json"), "repo_path": str(repo)}


def cmd_list(args: argparse.Namespace) -> int:
    """`nmctl targets list`."""
    registry = options.registry(args)
    data = {
        "targets": {n: _describe(spec.config, spec.repo) for n, spec in registry.targets.items()},
        "errors": {str(p): str(e) for p, e in registry.errors.items()},
    }
    lines = []
    if not registry.targets and not registry.errors:
        lines.append(f"no targets in {registry.folder}; add one with `nmctl targets add`")
    for name, spec in registry.targets.items():
        config = spec.config
        what = (
            f"files={list(config.files)}"
            if isinstance(config, CodeTarget)
            else f"env={config.env} weights={config.weights}"
        )
        lines.append(f"{name:<16} {config.kind:<7} {spec.repo}  {what}")
    lines += [f"INVALID {error}" for error in registry.errors.values()]
    options.emit(args, data, "\n".join(lines))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """`nmctl targets show NAME`."""
    spec = options.registry(args).get(args.name)
    if args.json:
        print(json.dumps(_describe(spec.config, spec.repo), indent=2))
    else:
        print(f"# {spec.source}\n# repository: {spec.repo}\n{render(spec.config)}", end="")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """`nmctl targets check [NAME]`: exit 1 when a file is invalid."""
    registry = options.registry(args)
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
    options.emit(args, {"wrote": str(path), "target": _describe(config, repo)}, f"wrote {path}")
    return 0
