"""`nmctl targets ...`: list, show, check and add target files.

A target file (``targets/NAME.toml``) says what Neuromutant may improve and
how; these commands read them as `nmd` does, so a file that passes `check`
is one the daemon accepts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from daemon.cli import options
from daemon.errors import Error
from daemon.paths import targets_dir
from daemon.registry import CodeTarget, TargetConfig, render
from daemon.registry.load import _field, _message  # TODO: public in load.py (its owner)
from daemon.registry.sections import NAME, NAME_RULE

OPTIONS = {"files": "--files", "tests": "--tests", "schedule": "--every", "repo": "--repo"}
"""The `targets add` option behind each field, so that an error names what was typed."""
INLINE = frozenset({"schedule", "env_kwargs", "network_kwargs"})
"""Fields `show` writes on one line: arguments and the schedule, not tables of settings."""


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
    add.add_argument("name", help=f"the new target's name: {NAME_RULE}")
    add.add_argument("--repo", required=True, help="path of the bot's git repository")
    add.add_argument(
        "--files",
        nargs="+",
        required=True,
        metavar="GLOB",
        help="globs (relative to the repo, inside it) of the files that may be rewritten",
    )
    add.add_argument(
        "--tests",
        nargs="+",
        default=["tests"],
        metavar="ARG",
        help="pytest arguments: options, and paths relative to the repo, inside it "
        "(default: tests)",
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
    """`nmctl targets show NAME`: every setting nmd uses, defaults filled in."""
    spec = options.registry(args).get(args.name)
    if args.json:
        print(json.dumps(_describe(spec.config, spec.repo), indent=2))
    else:
        print(f"# {spec.source}\n# repository: {spec.repo}\n{effective(spec.config)}", end="")
    return 0


def effective(config: TargetConfig) -> str:
    """Every setting of `config`, defaults included, as TOML that reads back to it.

    `render` writes only what differs from the defaults (a target file as a person
    would); `show` must tell what nmd actually uses. Unset options are comments.
    """
    lines: list[str] = []
    tables: list[str] = []
    for key, value in config.model_dump(mode="json").items():
        if key == "schedule":
            lines.append(f"schedule = {_schedule(value)}")
        elif isinstance(value, dict) and key not in INLINE:
            tables += _table(key, value)
        else:
            lines.append(_setting(key, value))
    return "\n".join(lines + tables) + "\n"


def _schedule(schedule: dict[str, Any]) -> str:
    if schedule["cron"]:
        return f"{{ cron = {_toml(schedule['cron'])} }}"
    return f'{{ every = "{schedule["every"]:g}s" }}'


def _table(name: str, data: dict[str, Any]) -> list[str]:
    lines = ["", f"[{name}]"]
    nested: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict):
            nested += _table(f"{name}.{key}", value)
        else:
            lines.append(_setting(key, value))
    return lines + nested


def _setting(key: str, value: Any) -> str:
    if value is None:
        return f"# {key}: not set"
    return f"{_key(key)} = {_toml(value)}"


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml(value: Any) -> str:
    """A TOML value (JSON's strings, numbers, booleans and arrays are TOML's too)."""
    if isinstance(value, dict):
        pairs = [f"{_key(k)} = {_toml(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def cmd_check(args: argparse.Namespace) -> int:
    """`nmctl targets check [NAME]`: exit 1 when a file is invalid."""
    registry = options.registry(args)
    if args.name:
        registry.get(args.name)  # raises the file's error, or "no target named ..."
        good, bad = [args.name], []
    else:
        good, bad = list(registry.targets), [str(e) for e in registry.errors.values()]
    warnings = [w for name in good for w in _warnings(registry.targets[name].config)]
    if args.json:
        print(json.dumps({"valid": good, "invalid": bad, "warnings": warnings}, indent=2))
    else:
        for name in good:
            print(f"ok       {name}")
        for warning in warnings:
            print(f"warning  {warning}")
        for error in bad:
            print(f"INVALID  {error}")
    return 1 if bad else 0


def _warnings(config: TargetConfig) -> list[str]:
    """What is valid but cannot run here: more cores than this machine has."""
    cores = os.cpu_count() or 1
    if config.sandbox.cpus > cores:
        return [
            f"{config.name}: sandbox.cpus = {config.sandbox.cpus:g} is more than this "
            f"machine's {cores} cores; Docker refuses such a sandbox here"
        ]
    return []


def cmd_add(args: argparse.Namespace) -> int:
    """`nmctl targets add NAME --repo PATH --files GLOB...`: write, validate, or write nothing."""
    if not NAME.match(args.name):  # before it becomes part of a path
        raise Error(f"name {args.name!r}: {NAME_RULE}")
    folder = targets_dir(args.targets)
    path = folder / f"{args.name}.toml"
    if path.exists() and not args.force:
        raise Error(f"{path} exists already; use --force to overwrite it")
    repo = Path(args.repo).expanduser().resolve()
    if not (repo / ".git").exists():
        raise Error(f"--repo {args.repo}: {repo} is not a git repository")
    config = _new_target(args, os.path.relpath(repo, folder))
    text = render(config)
    if CodeTarget.model_validate(tomllib.loads(text)) != config:  # what we write reads back
        raise Error(f"nmctl targets add {args.name}: the rendered file does not read back")
    folder.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(text)
    os.replace(staging, path)  # atomic: no half-written target file, ever
    options.emit(args, {"wrote": str(path), "target": _describe(config, repo)}, f"wrote {path}")
    return 0


def _new_target(args: argparse.Namespace, repo: str) -> CodeTarget:
    """The target `add` describes, or an error naming the option at fault (never pydantic's)."""
    try:
        return CodeTarget.model_validate(
            {
                "name": args.name,
                "repo": repo,
                "files": args.files,
                "tests": args.tests,
                "schedule": {"every": args.every},
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field(first["loc"]) or ""
        where = OPTIONS.get(field.split(".")[0], field)
        raise Error(f"{where}: {_message(first)}" if where else _message(first)) from None
