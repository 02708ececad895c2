"""Labels that tie each container to the process that started it, and the reaper.

A container is labelled with its owner's host, pid and process start time. A
container whose owner is gone (crashed, killed with SIGKILL) is an orphan and
is removed at start-up; containers of live processes, such as another `nmctl`
running beside the daemon, are left alone.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import docker
import docker.errors

log = logging.getLogger(__name__)

PRODUCT_LABEL = "neuromutant.sandbox"
OWNER_LABEL = "neuromutant.owner"
JOB_LABEL = "neuromutant.job"


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()[19]


def owner_token(pid: int | None = None) -> str:
    """``host/pid/start-time`` of a process: unique even when pids are reused."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}/{pid}/{_start_time(pid)}"


def owner_alive(token: str) -> bool:
    """Whether the process behind `token` still runs (tokens of other hosts count as alive)."""
    try:
        host, pid, started = token.split("/")
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    return _start_time(int(pid)) == started


def labels(job_name: str) -> dict[str, str]:
    """The labels every sandbox container carries."""
    return {PRODUCT_LABEL: "1", OWNER_LABEL: owner_token(), JOB_LABEL: job_name[:200]}


def reap(client: docker.DockerClient, *, everything: bool = False) -> list[str]:
    """Remove sandbox containers whose owner is dead (or all of them); returns their names."""
    removed = []
    for container in client.containers.list(all=True, filters={"label": PRODUCT_LABEL}):
        owner = container.labels.get(OWNER_LABEL, "")
        if not everything and owner_alive(owner):
            continue
        try:
            container.remove(force=True)
            removed.append(container.name)
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError as exc:
            log.warning("could not remove orphaned container %s: %s", container.name, exc)
    if removed:
        log.warning("removed %d orphaned sandbox container(s): %s", len(removed), removed)
    return removed
