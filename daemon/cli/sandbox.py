"""`nmctl sandbox ...`: build the image, check the sandbox works, run a command in it."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from daemon.cli import options
from daemon.errors import Error
from sandbox import image as images
from sandbox import reaper
from sandbox.backend import open_backend
from sandbox.docker_backend import connect
from sandbox.errors import BackendUnavailable
from sandbox.job import Job, Limits

CHECK_CODE = "import sys; print('sandbox ok', sys.version.split()[0])"


def add_parsers(commands: options.Commands) -> None:
    """Register `nmctl sandbox` and its subcommands."""
    sandbox = commands.add_parser(
        "sandbox",
        help="build, check and use the candidate sandbox",
        description="Build, check and use the sandbox that runs every candidate: a "
        "Docker container by default, bubblewrap with --backend bwrap (weaker isolation).",
    )
    sub = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="COMMAND")
    _add_build(sub)
    _add_check(sub)
    _add_run(sub)
    _add_reap(sub)


def _add_build(sub: options.Commands) -> None:
    build = sub.add_parser(
        "build",
        help="build the sandbox image",
        description="Build the sandbox image. --offline needs no registry: it "
        "borrows this host's Python runtime, mounted read-only. Without it, "
        "sandbox/Dockerfile is built, which pulls its base image from a registry.",
    )
    build.add_argument(
        "--offline",
        action="store_true",
        help="build from the host's Python runtime, with no registry (recommended)",
    )
    build.add_argument("--force", action="store_true", help="rebuild even if it is up to date")
    options.add_json(build, "print the result as JSON")
    build.set_defaults(func=cmd_build)


def _add_check(sub: options.Commands) -> None:
    check = sub.add_parser(
        "check",
        help="say which backend and image will be used, and try them",
        description="Report whether Docker answers, which backend and image "
        "will run candidates, and run a trivial job in it. Each step is reported; exit "
        "status 1 at the first that fails.",
    )
    options.add_backend_options(check)
    options.add_json(check, "print the report as JSON")
    check.set_defaults(func=cmd_check)


def _add_run(sub: options.Commands) -> None:
    run = sub.add_parser(
        "run",
        help="run a command in the sandbox and show the result",
        description="Run COMMAND in a sandbox over TREE (read-only at "
        "/sandbox/src) and print its output and the structured result (outcome, exit "
        "code, wall time, peak memory). '{python}' in COMMAND is the sandbox's Python. "
        "Exit status 0 when the outcome is ok, else 1.",
    )
    options.add_backend_options(run)
    run.add_argument(
        "--tree",
        type=Path,
        default=None,
        help="directory mounted read-only at /sandbox/src (default: an empty one)",
    )
    run.add_argument("--timeout", default="60s", help="wall-clock limit (default: 60s)")
    run.add_argument("--memory", default="512m", help="memory limit (default: 512m)")
    options.add_json(run, "print the result as JSON")
    run.add_argument(
        "cmd", nargs=argparse.REMAINDER, metavar="COMMAND", help="the command, after --"
    )
    run.set_defaults(func=cmd_run)


def _add_reap(sub: options.Commands) -> None:
    reap = sub.add_parser(
        "reap",
        help="remove sandbox containers left by dead processes",
        description="Remove sandbox containers whose owning process is gone. "
        "Every process that opens the Docker backend (nmd, nmctl cycle --local) does "
        "this too.",
    )
    reap.add_argument(
        "--all",
        action="store_true",
        help="remove every sandbox container, also those of live processes",
    )
    options.add_json(reap, "print the result as JSON")
    reap.set_defaults(func=cmd_reap)


def cmd_build(args: argparse.Namespace) -> int:
    """`nmctl sandbox build`."""
    client = connect()
    if args.offline:
        if not args.json:
            print("checking the offline image for this host's Python runtime...", file=sys.stderr)
        info, built = images.build_offline(client, force=args.force)
    else:
        if not args.json:
            print(
                f"building {images.DOCKERFILE_TAG} from sandbox/Dockerfile "
                "(needs a registry; use --offline without one)...",
                file=sys.stderr,
            )
        info, built = images.build_dockerfile(client), True
    data = {
        "image": info.tag,
        "kind": info.kind,
        "built": built,
        "python": info.python,
        "mounts": list(info.mounts),
    }
    verb = "built" if built else "up to date:"
    options.emit(args, data, f"{verb} {info.tag} ({info.kind}, python {info.python})")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """`nmctl sandbox check`: each step reported, exit 1 at the first that fails."""
    steps: list[dict[str, Any]] = []

    def step(name: str, ok: bool, detail: str) -> bool:
        steps.append({"step": name, "ok": ok, "detail": detail})
        if not args.json:
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        return ok

    ok = _check(args, step)
    if args.json:
        print(json.dumps({"ok": ok, "steps": steps}, indent=2))
    return 0 if ok else 1


def _check(args: argparse.Namespace, step: Any) -> bool:
    if args.backend == "docker":
        try:
            client = connect()
            version = client.version().get("Version", "?")
            step("docker", True, f"the daemon answers (Docker {version})")
        except BackendUnavailable as exc:
            step("docker", False, str(exc))
            if not args.allow_bwrap:
                return False
        else:
            try:
                info = images.resolve(client, args.image)
                stale = info.check_runtime()
                detail = f"{info.tag} ({info.kind}, python {info.python})"
                step("image", True, detail + (f"; warning: {stale}" if stale else ""))
            except BackendUnavailable as exc:
                step("image", False, str(exc))
                if not args.allow_bwrap:
                    return False
    try:
        backend = open_backend(
            options.state(args),
            args.backend,
            allow_bwrap_fallback=args.allow_bwrap,
            image=args.image,
        )
    except BackendUnavailable as exc:
        return step("backend", False, str(exc))
    step("backend", True, backend.name + (" (WEAKER isolation)" if backend.name == "bwrap" else ""))
    with _empty_tree(options.state(args)) as tree:
        result = backend.run(
            Job(
                tree=Path(tree),
                command=["{python}", "-c", CHECK_CODE],
                limits=Limits(timeout=30.0),
                name="check",
            )
        )
    if result.ok and result.stdout.text.startswith("sandbox ok"):
        return step("trivial job", True, f"{result.stdout.text.strip()} in {result.wall_time:.2f}s")
    why = result.detail or result.stderr.text.strip()[-500:] or result.stdout.text[-500:]
    return step("trivial job", False, f"{result.outcome.value}: {why}")


@contextlib.contextmanager
def _empty_tree(state: Path) -> Iterator[Path]:
    """An empty source tree the sandbox user may read."""
    with tempfile.TemporaryDirectory(dir=state) as tree:
        os.chmod(tree, 0o755)
        yield Path(tree)


def cmd_run(args: argparse.Namespace) -> int:
    """`nmctl sandbox run -- CMD...`: exit status 0 when the command's outcome is ok."""
    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not command:
        raise Error(
            "sandbox run: give the command after --, e.g. "
            "nmctl sandbox run -- {python} -c 'print(1)'"
        )
    if args.tree is not None and not args.tree.is_dir():
        raise Error(f"sandbox run: --tree {args.tree}: not a directory")
    limits = Limits.parse({"timeout": args.timeout, "memory": args.memory})
    state = options.state(args)
    backend = open_backend(
        state, args.backend, allow_bwrap_fallback=args.allow_bwrap, image=args.image
    )
    with _empty_tree(state) as empty:
        tree = args.tree or empty
        result = backend.run(Job(tree=tree, command=command, limits=limits, name="nmctl-run"))
    text = "\n".join(
        filter(
            None,
            [
                str(result.stdout).rstrip(),
                str(result.stderr).rstrip(),
                f"[{result.outcome.value}] exit={result.exit_code} wall={result.wall_time:.2f}s "
                f"peak={(result.peak_memory or 0) / 2**20:.1f}MiB {result.detail}".rstrip(),
            ],
        )
    )
    options.emit(args, result.to_dict(), text)
    return 0 if result.ok else 1


def cmd_reap(args: argparse.Namespace) -> int:
    """`nmctl sandbox reap`."""
    removed = reaper.reap(connect(), everything=args.all)
    options.emit(args, {"removed": removed}, f"removed {len(removed)} container(s)")
    return 0
