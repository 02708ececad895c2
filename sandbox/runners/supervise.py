"""Watch one process to its end under a deadline, and describe how it ended.

Shared by the launcher (one command per sandbox) and the batch harness (one
forked child per candidate), so both report in exactly the same shape.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from typing import Any

from . import procs
from .capture import CappedStream, Heartbeat, drain, pump

REPORT_VERSION = 1
FULL_SLACK = 1024**2
"""A scratch filesystem with less free space than this (or 1/64 of its size) is full."""


def full_scratch(paths: Sequence[str]) -> str | None:
    """Which of the scratch filesystems `paths` is full, in words, or None.

    A tmpfs that was filled to its cap is why a candidate's writes failed
    (ENOSPC): the candidate wrote more than the sandbox's scratch space, which
    is its failure, not the sandbox's.
    """
    for path in paths:
        try:
            stats = os.statvfs(path)
        except OSError:
            continue
        size = stats.f_blocks * stats.f_frsize
        if size and stats.f_bavail * stats.f_frsize < min(FULL_SLACK, size // 64):
            return f"{path} is full ({size // 1024**2} MiB)"
    return None


class Supervisor:
    """Started just before the process: the clock and the cgroup counters to compare with."""

    def __init__(self) -> None:
        self.oom_before = procs.oom_kills() or 0
        self.pids_before = procs.pids_limit_hits() or 0
        self.started = time.monotonic()

    def finish(
        self,
        pid: int,
        streams: dict[int, CappedStream],
        timeout: float,
        heartbeat: Heartbeat | None = None,
        scratch: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Read `streams` until `pid` exits or `timeout` passes, clean up, and report.

        At the deadline, or when `heartbeat` sees no progress in time, the
        process group is killed; either way every process left behind below
        us is killed before the pipes are drained. The report says whether one
        of the `scratch` filesystems was left full.
        """
        in_time = pump(streams, self.started + timeout, pid, heartbeat)
        if not in_time:
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError):
                    kill(pid, signal.SIGKILL)
        stalled = bool(heartbeat and heartbeat.stalled)
        _, code, usage = os.wait4(pid, 0)
        ended = time.monotonic()
        procs.kill_descendants()
        drain(streams)
        return {
            "v": REPORT_VERSION,
            "exit_code": os.WEXITSTATUS(code) if os.WIFEXITED(code) else None,
            "signal": os.WTERMSIG(code) if os.WIFSIGNALED(code) else None,
            "timed_out": not in_time and not stalled,
            "stalled": stalled,
            "scratch_full": full_scratch(scratch),
            "wall_time": ended - self.started,
            "peak_memory": usage.ru_maxrss * 1024,
            "oom_kills": (procs.oom_kills() or 0) - self.oom_before,
            "pids_limit_hits": (procs.pids_limit_hits() or 0) - self.pids_before,
        }


def streams_report(stdout: CappedStream, stderr: CappedStream | None = None) -> dict[str, Any]:
    """The output part of a report."""
    return {"stdout": stdout.to_dict(), "stderr": (stderr or CappedStream(0)).to_dict()}
