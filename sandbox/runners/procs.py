"""Process control for the runners: reaping strays and reading kernel counters.

A candidate may fork, daemonise with setsid, or leave children running. The
runner makes itself a child subreaper so every such orphan is re-parented to it,
and then kills all of its descendants once the candidate is done.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import time
from collections.abc import Mapping
from pathlib import Path

from . import overlay

_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
KILL_PATIENCE = 10.0
"""Seconds to keep killing and reaping before giving up on a process that will not die."""


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Make orphaned descendants re-parent to this process instead of init."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def hide_from_same_user() -> bool:
    """Stop processes of the same user from ptracing us or opening our /proc fds.

    The candidate runs as our uid; without this it could write to our stdout
    through /proc/PID/fd/1 and forge the report.
    """
    return _prctl(_PR_SET_DUMPABLE, 0)


def _parent_map() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` in the process tree."""
    parents = _parent_map()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def kill_descendants(pid: int | None = None, patience: float = KILL_PATIENCE) -> int:
    """SIGKILL every descendant of `pid` (default: us) and reap our children; returns the count.

    Loops until none is left, because a process may fork between the scan and
    the kill, and a killed process is still there (holding its sockets and
    IPC attachments) until it has exited and been reaped: as a child
    subreaper we get every orphan to reap. `patience` bounds the loop for a
    process that cannot die (stuck in the kernel).
    """
    root = os.getpid() if pid is None else pid
    killed = 0
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        victims = descendants(root)
        if not victims:
            break
        for victim in victims:
            try:
                os.kill(victim, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        reap_children()
    return killed


def reap_children() -> None:
    """Collect every exited child so no zombie holds a pid slot."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def set_oom_score(score: int = 1000) -> None:
    """Offer this process first to the OOM killer (raising the score needs no privilege)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text(str(score))


def _counter(paths: list[str], key: str) -> int | None:
    for path in paths:
        try:
            for line in Path(path).read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
        except (OSError, ValueError):
            continue
    return None


def oom_kills() -> int | None:
    """How many processes the memory cgroup's OOM killer has killed (cgroup v2 or v1)."""
    return _counter(
        ["/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"], "oom_kill"
    )


def pids_limit_hits() -> int | None:
    """How many forks the pids cgroup has refused (cgroup v2 or v1)."""
    return _counter(["/sys/fs/cgroup/pids.events", "/sys/fs/cgroup/pids/pids.events"], "max")


def confine(src: str, overlays: Mapping[str, str], scratch: str, out_fd: int) -> None:
    """In a forked child (tests or scoring, alike): own session and scratch, then the overlay."""
    os.setsid()
    set_oom_score(1000)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.makedirs(os.path.join(scratch, "tmp"))
    os.chdir(scratch)
    os.environ["TMPDIR"] = os.path.join(scratch, "tmp")
    os.environ["HOME"] = scratch
    overlay.install(src, overlays)
