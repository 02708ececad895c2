"""Reach the Ray cluster once per process, and place a target's evaluation on it.

`placement` is asked at the start of every cycle: a target whose sandbox is
``where = "cluster"`` gets a `RayBackend` and as many parallel sandboxes as
the cluster has CPUs for; when the cluster cannot be reached it gets this
machine's backend and one warning line, or the cycle fails, as the settings
say. Ray is imported only then.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
from pathlib import Path
from typing import Any

from daemon.cluster.settings import ClusterSettings, load_cluster
from daemon.errors import ClusterError
from daemon.registry import TargetSpec
from sandbox.backend import Backend

log = logging.getLogger(__name__)

PROBE_SECONDS = 3.0
"""How long a HOST:PORT may take to accept a connection before it counts as unreachable."""
NAMESPACE = "neuromutant"

_lock = threading.Lock()
_address: str | None = None
"""The address this process is connected to, once it is."""


def probe(address: str, timeout: float = PROBE_SECONDS) -> None:
    """Raise `ClusterError` unless something accepts connections at HOST:PORT."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return
    except (OSError, ValueError) as exc:
        raise ClusterError(f"the Ray cluster at {address} is unreachable: {exc}") from None


def connect(address: str) -> Any:
    """The `ray` module, connected to the cluster at `address` (once per process).

    Raises:
        ClusterError: nothing answers there, Ray cannot join it, or this process
            is already connected to another cluster.
    """
    global _address
    with _lock:
        if _address is not None:
            if _address != address:
                raise ClusterError(
                    f"this process is connected to the Ray cluster at {_address}, not {address}"
                )
            import ray

            return ray
        if address != "auto":
            probe(address)
        try:
            import ray
        except ImportError:
            raise ClusterError(
                "Ray is not installed: pip install 'neuromutant[cluster]' (set-up does)"
            ) from None
        _route_messages_to_the_log()
        try:
            ray.init(
                address=address,
                namespace=NAMESPACE,
                log_to_driver=False,
                logging_level=logging.WARNING,
                configure_logging=False,
            )
        except Exception as exc:  # ConnectionError, or Ray's own, on a cluster it cannot join
            raise ClusterError(f"cannot join the Ray cluster at {address}: {exc}") from None
        _address = address
        return ray


def _route_messages_to_the_log() -> None:
    """Send what Ray prints for the driver (a node's death, say) to the log, not stdout.

    A driver prints the cluster's error messages on stdout, where they would
    corrupt `nmctl ... --json`; the log says the same on stderr.
    """
    from ray._private import worker

    def to_log(data: dict[str, Any], ignore_prefix: bool = False) -> None:
        for line in data.get("lines", []):
            log.warning("ray (%s): %s", data.get("pid", "?"), str(line).strip())

    if hasattr(worker, "print_to_stdstream"):
        worker.print_to_stdstream = to_log


def placement(spec: TargetSpec, backend: Backend, state: Path) -> tuple[TargetSpec, Backend]:
    """The target (with its parallelism) and the backend its cycle evaluates with.

    Raises:
        ClusterError: the target asks for the cluster, none can be used, and the
            settings say to fail rather than evaluate here.
    """
    if spec.config.sandbox.where != "cluster":
        return spec, backend
    settings = load_cluster(state)
    try:
        dispatch = cluster_backend(settings)
    except ClusterError as exc:
        if settings.unreachable == "fail":
            raise ClusterError(f"{spec.name}: {exc} (settings: {settings.source})") from None
        log.warning("%s: %s; evaluating on this machine instead", spec.name, exc)
        return spec, backend
    slots = dispatch.slots(spec.config.sandbox.cpus)
    log.info(
        "%s: evaluating on the Ray cluster at %s, %d sandboxes at once",
        spec.name,
        settings.address,
        slots,
    )
    sandbox = spec.config.sandbox.model_copy(update={"parallel": slots})
    config = spec.config.model_copy(update={"sandbox": sandbox})
    return dataclasses.replace(spec, config=config), dispatch


def cluster_backend(settings: ClusterSettings) -> Any:
    """A `RayBackend` on the configured cluster, or `ClusterError` saying why not."""
    if settings.address is None:
        raise ClusterError(
            f"no Ray cluster is configured (set [cluster] address in {settings.source} "
            "or $NEUROMUTANT_RAY_ADDRESS)"
        )
    ray = connect(settings.address)
    from sandbox.cluster.dispatch import RayBackend

    cpus = ray.cluster_resources().get("CPU", 0.0)
    return RayBackend({"address": settings.address, "nodes": len(ray.nodes()), "cpus": cpus})
