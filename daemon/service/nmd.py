"""`nmd`: the Neuromutant daemon.

Runs in the foreground and logs structured lines to stderr (journald keeps
them). SIGTERM and SIGINT stop new cycles and wait a bounded time for running
ones (they are crash-safe, so the bound is kept even if they do not end);
SIGHUP reloads the target files; SIGUSR1 writes every thread's stack to the log,
as does a crash. One `nmd` per state directory.
"""

from __future__ import annotations

import argparse
import faulthandler
import fcntl
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from daemon import logs
from daemon.cli.options import add_backend_options, add_targets
from daemon.cluster.connect import cluster_backend
from daemon.cluster.settings import load_cluster
from daemon.errors import AlreadyRunning, ClusterError, Error
from daemon.paths import state_dir, targets_dir
from daemon.service.control import Server, socket_path
from daemon.service.scheduler import Service
from policies.errors import Error as PoliciesError
from sandbox.backend import open_backend
from sandbox.errors import Error as SandboxError

log = logging.getLogger("nmd")


def build_parser() -> argparse.ArgumentParser:
    """The `nmd` argument parser."""
    parser = argparse.ArgumentParser(
        prog="nmd",
        description="The Neuromutant daemon: schedules improvement cycles of every target in "
        "the targets folder, in the sandbox, until stopped.",
    )
    add_targets(parser)
    add_backend_options(parser, image=True)
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=None,
        help="cycles running at once across targets; the others wait in the queue, forced "
        "ones first (default: half the cores, or of the Ray cluster's CPUs when one is "
        "configured in settings.toml)",
    )
    parser.add_argument(
        "--stop-grace",
        type=float,
        default=60.0,
        help="seconds a stop waits for running cycles (default: 60)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug lines")
    return parser


def hold_instance_lock(state: Path) -> int:
    """Take the state directory's daemon lock, or raise `AlreadyRunning`."""
    fd = os.open(state / "nmd.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 100, 0).decode(errors="replace").strip() or "unknown pid"
        os.close(fd)
        raise AlreadyRunning(state, holder) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
    return fd


def concurrency(state: Path) -> int:
    """Cycles at once by default: half the cores, of the Ray cluster's when one is configured."""
    cores = os.cpu_count() or 2
    settings = load_cluster(state)  # a wrong file stops the start, naming the field
    if settings.address is not None:
        try:
            cpus = cluster_backend(settings).slots()
        except ClusterError as exc:  # each cluster cycle says so again, and falls back or fails
            log.warning("%s; counting this machine's cores only", exc)
        else:
            log.info("the Ray cluster at %s has %d CPUs", settings.address, cpus)
            cores = max(cores, cpus)
    return max(1, cores // 2)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `nmd` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.max_concurrent is not None and args.max_concurrent < 1:
        parser.error(f"--max-concurrent must be at least 1, not {args.max_concurrent}")
    logs.setup(args.verbose)
    faulthandler.enable()  # a hung or crashed daemon says where it was
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        state = state_dir(args.state)
        hold_instance_lock(state)
        backend = open_backend(
            state, args.backend, allow_bwrap_fallback=args.allow_bwrap, image=args.image
        )
        bound = args.max_concurrent or concurrency(state)
    except (Error, SandboxError, PoliciesError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    service = Service(state, targets_dir(args.targets), backend, max_concurrent=bound)
    stop = threading.Event()

    def on_stop(signum: int, _frame: object) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    def on_reload(_signum: int, _frame: object) -> None:
        log.info("received SIGHUP: reloading the target files")
        threading.Thread(target=service.reload, daemon=True).start()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, on_reload)
    log.info("state in %s, targets in %s, sandbox %s", state, service.folder, backend.name)
    server = Server(socket_path(state), service.handle)  # up before READY=1 is sent
    server.start()
    log.info("control socket %s", server.path)
    service.start()
    # A signal may land on any thread; the main thread runs its handler only when it
    # wakes, so wait in short steps rather than forever.
    while not stop.wait(0.5):
        pass
    server.close()
    if not service.stop(args.stop_grace):
        # Cycles still running past the bound: leave now. Git writes are crash-safe and
        # the next start reaps their containers; waiting on their threads would not end.
        logging.shutdown()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
