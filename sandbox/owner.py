"""Who started a container or a job directory, and whether that process still lives.

A token is ``host/pid/start-time``: the start time (from /proc) tells a live
owner from a new process that happens to reuse its pid.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()[19]


def token(pid: int | None = None) -> str:
    """The owner token of a process (default: this one)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}/{pid}/{_start_time(pid)}"


def alive(owner: str) -> bool:
    """Whether the process behind `owner` still runs (owners on other hosts count as alive)."""
    try:
        host, pid, started = owner.split("/")
        number = int(pid)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    return _start_time(number) == started
