"""A long-lived gym sandbox on a cluster node, behind the interface of a local one.

A Ray actor (`GymHost`) on some node keeps one `GymWorker` there: the
node's own Docker sandbox, with the target's limits, talked to over a Unix
socket on that node, as on the daemon's machine. The daemon talks to the
actor; `RemoteGymWorker` turns what can go wrong on the way (the actor's node
lost, no answer in time) into `WorkerLost`, so that `GymPool` replaces it and
plays its slice again, as it does for a local sandbox.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from ..gym_eval import GymTask
from ..gym_worker import ENDING, SLACK, STARTUP, GymWorker, TargetBroken, WorkerLost
from ..job import Limits
from . import node, trees

ARRIVAL = 60.0
"""Seconds an actor may take to start on its node (a worker process, imports) before it
counts as lost."""


class GymHost:
    """The node's side: one local `GymWorker`, started on creation."""

    def __init__(
        self, digest: str, data: bytes, task: GymTask, limits: Limits, lifetime: float, name: str
    ) -> None:
        tree = trees.unpack(digest, data, node.node_state() / "trees")
        ports = node.node_state() / "run" / "ports"
        self.worker = GymWorker(
            node.backend(), tree, task, limits, port_root=ports, lifetime=lifetime, name=name
        )

    def request(self, doc: dict[str, Any], blob: bytes) -> tuple[str, Any]:
        """("ok", reply), or ("lost" | "broken", why): exceptions would arrive wrapped."""
        try:
            return "ok", self.worker.request(doc, blob)
        except TargetBroken as exc:
            return "broken", str(exc)
        except WorkerLost as exc:
            return "lost", str(exc)

    def close(self) -> None:
        """Stop the sandbox, wait for it to end (killed if it does not), then end this actor.

        Ending it gives its CPU back at once: a cycle's next sandboxes (its
        verification's) wait for that CPU.
        """
        self.worker.close()
        import ray

        ray.actor.exit_actor()


_actor_class: Any = None


def _host_class() -> Any:
    global _actor_class
    if _actor_class is None:
        import ray

        _actor_class = ray.remote(max_restarts=0, max_task_retries=0)(GymHost)
    return _actor_class


class RemoteGymWorker:
    """`GymWorker`'s interface (request, stop, close, seconds) for a sandbox on a node."""

    def __init__(
        self,
        dispatch: Any,
        tree: Path,
        task: GymTask,
        limits: Limits,
        *,
        port_root: Path,
        lifetime: float,
        name: str = "gym",
    ) -> None:
        import ray

        del port_root  # the node has its own
        self.ray = ray
        self.name, self.limits = name, limits
        self.busy = 0.0
        self.first = True
        self.closing: Any = None
        digest, data = dispatch.tree(tree)
        self.actor = (
            _host_class()
            .options(num_cpus=limits.cpus, scheduling_strategy="SPREAD", name=None)
            .remote(digest, data, task, limits, lifetime, name)
        )

    def request(self, doc: dict[str, Any], blob: bytes = b"") -> dict[str, Any]:
        """Send one request and wait for its answer.

        Raises:
            WorkerLost: the node, the actor or the sandbox was lost, or hung (it is killed).
            TargetBroken: the target cannot be loaded in the sandbox.
        """
        wait = self.limits.timeout + SLACK + (STARTUP + ARRIVAL if self.first else 0.0)
        asked = time.monotonic()
        try:
            status, value = self.ray.get(self.actor.request.remote(doc, blob), timeout=wait)
        except self.ray.exceptions.GetTimeoutError:
            self.kill()
            raise WorkerLost(f"sandbox {self.name}: no answer within {wait:.0f}s") from None
        except self.ray.exceptions.RayError as exc:
            raise WorkerLost(f"sandbox {self.name} lost with its node or actor: {exc}") from None
        finally:
            self.busy += time.monotonic() - asked
            self.first = False
        if status == "broken":
            raise TargetBroken(value)
        if status != "ok":
            raise WorkerLost(value)
        return value

    def kill(self) -> None:
        """End the actor now; its node's reaper removes the sandbox it leaves."""
        with contextlib.suppress(Exception):
            self.ray.kill(self.actor, no_restart=True)

    def stop(self) -> None:
        """Tell the sandbox to quit and its actor to end after it, without waiting."""
        if self.closing is None:
            with contextlib.suppress(Exception):
                self.closing = self.actor.close.remote()

    def close(self) -> None:
        """Stop the sandbox, wait for its actor to end (bounded), else kill the actor."""
        self.stop()
        with contextlib.suppress(Exception):
            self.ray.get(self.closing, timeout=ENDING + 30.0)
        self.kill()

    @property
    def seconds(self) -> float:
        """Seconds the sandbox worked, as seen from here: its start-up and its requests."""
        return self.busy
