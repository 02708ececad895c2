"""Labels that tie each container to the process that started it, and the reaper.

A container is labelled with its owner's host, pid and process start time. A
container whose owner is gone (crashed, killed with SIGKILL) is an orphan and
is removed at start-up; containers of live processes, such as another `nmctl`
running beside the daemon, are left alone.
"""

from __future__ import annotations

import logging

import docker
import docker.errors

from . import owner

log = logging.getLogger(__name__)

PRODUCT_LABEL = "neuromutant.sandbox"
OWNER_LABEL = "neuromutant.owner"
JOB_LABEL = "neuromutant.job"


def labels(job_name: str) -> dict[str, str]:
    """The labels every sandbox container carries."""
    return {PRODUCT_LABEL: "1", OWNER_LABEL: owner.token(), JOB_LABEL: job_name[:200]}


def reap(client: docker.DockerClient, *, everything: bool = False) -> list[str]:
    """Remove sandbox containers whose owner is dead (or all of them); returns their names."""
    removed = []
    for container in client.containers.list(all=True, filters={"label": PRODUCT_LABEL}):
        if not everything and owner.alive(container.labels.get(OWNER_LABEL, "")):
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
