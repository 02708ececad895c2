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
    """Remove sandbox containers whose owner is dead (or all of them); returns their names.

    The listing is one API call (docker-py's `containers.list` inspects each
    container afterwards, and fails when another process removes one meanwhile).
    """
    removed = []
    for entry in client.api.containers(all=True, filters={"label": PRODUCT_LABEL}):
        labels_ = entry.get("Labels") or {}
        name = (entry.get("Names") or [entry["Id"]])[0].lstrip("/")
        if not everything and owner.alive(labels_.get(OWNER_LABEL, "")):
            continue
        try:
            client.api.remove_container(entry["Id"], force=True)
            removed.append(name)
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError as exc:
            log.warning("could not remove orphaned container %s: %s", name, exc)
    if removed:
        log.warning("removed %d orphaned sandbox container(s): %s", len(removed), removed)
    return removed
