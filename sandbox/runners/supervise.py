"""Watch one process to its end under a deadline, and describe how it ended.

Shared by the launcher (one command per sandbox) and the batch harness (one
forked child per candidate), so both report in exactly the same shape.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import Any

from . import procs
from .capture import CappedStream, drain, pump

REPORT_VERSION = 1


class Supervisor:
    """Started just before the process: the clock and the cgroup counters to compare with."""

    def __init__(self) -> None:
        self.oom_before = procs.oom_kills() or 0
        self.pids_before = procs.pids_limit_hits() or 0
        self.started = time.monotonic()

    def finish(self, pid: int, streams: dict[int, CappedStream], timeout: float) -> dict[str, Any]:
        """Read `streams` until `pid` exits or `timeout` passes, clean up, and report.

        At the deadline the process group is killed; either way every process
        left behind below us is killed before the pipes are drained.
        """
        in_time = pump(streams, self.started + timeout, pid)
        if not in_time:
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError):
                    kill(pid, signal.SIGKILL)
        _, code, usage = os.wait4(pid, 0)
        ended = time.monotonic()
        procs.kill_descendants()
        drain(streams)
        return {
            "v": REPORT_VERSION,
            "exit_code": os.WEXITSTATUS(code) if os.WIFEXITED(code) else None,
            "signal": os.WTERMSIG(code) if os.WIFSIGNALED(code) else None,
            "timed_out": not in_time,
            "wall_time": ended - self.started,
            "peak_memory": usage.ru_maxrss * 1024,
            "oom_kills": (procs.oom_kills() or 0) - self.oom_before,
            "pids_limit_hits": (procs.pids_limit_hits() or 0) - self.pids_before,
        }


def streams_report(stdout: CappedStream, stderr: CappedStream | None = None) -> dict[str, Any]:
    """The output part of a report."""
    return {"stdout": stdout.to_dict(), "stderr": (stderr or CappedStream(0)).to_dict()}
