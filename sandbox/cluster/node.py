"""What runs on a cluster node: its own Docker sandbox, with the hardening of every job.

A Ray worker process on a node runs jobs exactly as the daemon's machine does:
through a `DockerBackend` on that node's Docker daemon and offline image
(built there on first use from the node's own Python runtime), with the same
limits, no network, a read-only root and an unprivileged user. Only the tree
differs: it arrives as an archive (`trees`) and is unpacked into the node's
state folder. The worker process owns the containers it starts: when Ray kills
it (a cancelled task, a lost driver), the containers' owner is dead and the
node's reaper removes them: every worker that has run a job sweeps every
`REAP_EVERY` seconds.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from ..cancel import Cancel
from ..job import Job, Outcome, Result
from . import trees

log = logging.getLogger(__name__)

NODE_STATE = "NEUROMUTANT_NODE_STATE"
"""The environment variable naming a node's state folder (set by `nmctl cluster`)."""
DEFAULT_STATE = Path("/var/lib/neuromutant-node")
INTERRUPTIBLE = 0.5
"""Seconds a task waits for its job at a time: Ray's cancel interrupts between waits."""
REAP_EVERY = 10.0
"""Seconds between two sweeps for orphaned containers in one worker process."""
SWEEP_AFTER = (1.0, 2.0, 5.0)
"""Pauses before each sweep that follows a forced cancel (`sweep`)."""

_backend: Any = None
_backend_lock = threading.Lock()


def node_state() -> Path:
    """This node's state folder: job files, unpacked trees, long-lived sandboxes' sockets."""
    path = Path(os.environ.get(NODE_STATE) or DEFAULT_STATE)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@functools.cache
def code_digest() -> str:
    """A digest of the sandbox code (this package): nodes must run what the daemon runs."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def backend() -> Any:
    """This process's Docker backend on this node, opened (and the image built) once."""
    global _backend
    with _backend_lock:
        if _backend is None:
            from .. import image
            from ..docker_backend import DockerBackend, connect

            client = connect()
            built, fresh = image.build_offline(client)
            if fresh:
                log.warning("built the sandbox image %s on this node", built.tag)
            _backend = DockerBackend(node_state(), image=built.tag, client=client)
            threading.Thread(target=_reap_forever, args=(_backend,), daemon=True).start()
        return _backend


def _reap_forever(docker: Any) -> None:
    """Sweep every `REAP_EVERY` seconds while this worker lives, jobs or not.

    The backend swept once as it opened; a worker killed mid-job since leaves a
    container that no later job may come to remove.
    """
    from .. import reaper

    while True:
        time.sleep(REAP_EVERY)
        try:
            reaper.reap(docker.client)
        except Exception:  # Docker busy or gone: the next sweep tries again
            log.debug("sweep for orphaned containers failed", exc_info=True)


def sweep() -> list[str]:
    """Remove this node's containers of dead workers, a few times over; their names.

    Asked for after a forced cancel: the killed worker takes a moment to be gone,
    and no later job may come to this node to sweep.
    """
    from .. import reaper

    client = backend().client
    removed: list[str] = []
    for pause in SWEEP_AFTER:
        time.sleep(pause)
        removed += reaper.reap(client)
    return removed


def _wait_out(thread: threading.Thread, seconds: float) -> None:
    """Let the job's thread remove its container: a second interrupt must not cut it short."""
    deadline = time.monotonic() + seconds
    while thread.is_alive() and time.monotonic() < deadline:
        try:
            thread.join(INTERRUPTIBLE)
        except KeyboardInterrupt:
            continue


class OtherCode(Exception):
    """This node's sandbox code is not the daemon's: it could harden jobs differently."""


def run_job(job: Job, digest: str, data: bytes, code: str) -> Result:
    """Run `job` on this node, with the tree of the archive `data`; never raises for the job.

    `code` is the daemon's `code_digest`: a node that runs other sandbox code
    refuses (`OtherCode`). Ray cancels a running task by raising
    KeyboardInterrupt in it: the job's container is then killed and removed
    before the interruption goes on.
    """
    if code != code_digest():
        raise OtherCode(
            f"node {socket.gethostname()} runs sandbox code {code_digest()}, the daemon "
            f"{code}: install the same Neuromutant on every node"
        )
    docker = backend()
    try:
        tree = trees.unpack(digest, data, node_state() / "trees")
    except (OSError, ValueError) as exc:
        return Result(Outcome.ERROR, None, 0.0, detail=f"cannot unpack the tree here: {exc}")
    job = dataclasses.replace(job, tree=tree)
    cancel = Cancel()
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(docker.run(job, cancel))
        except Exception as exc:  # Docker stopped answering: the daemon decides
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        while thread.is_alive():  # in steps: Ray's interrupt lands only between them
            thread.join(INTERRUPTIBLE)
    except KeyboardInterrupt:
        cancel.set()
        _wait_out(thread, 60.0)
        raise
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    return outcome[0]


def report() -> dict[str, Any]:
    """This node's readiness, for `nmctl cluster status`: Docker, image, code."""
    doc: dict[str, Any] = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "code": code_digest(),
        "state": str(node_state()),
    }
    try:
        docker = backend()
    except Exception as exc:
        return {**doc, "docker": False, "error": f"{type(exc).__name__}: {exc}"}
    return {**doc, "docker": True, "image": docker.image.tag, "python": docker.image.python}
