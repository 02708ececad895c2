"""A backend that runs each job as a Ray task, in a cluster node's own Docker sandbox.

The daemon stays the only writer of git and of its store: a node receives a
job (as data) and its tree (an archive in Ray's object store, put once per
tree) and returns the job's `Result`, as the local backend would. Batches are
spread over the nodes, one per CPU a sandbox asks for. Ray re-runs a task whose
node or worker died, on a live node, at most `RETRIES` times; a task answers
once, so no candidate is counted twice or lost. A job cancelled here
(`Cancel`) is cancelled there, and its container removed.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Any

from ..cancel import Cancel, cancellable
from ..errors import BackendUnavailable
from ..job import Job, Outcome, Result
from . import node, trees

log = logging.getLogger(__name__)

RETRIES = 2
"""Times a task lost with its node or worker is run again elsewhere."""
WAIT = 1.0
"""Seconds of one wait for a task's answer: between two, a cancel is followed up."""
GRACE = 15.0
"""Seconds a cancelled task has to end before its worker is killed."""
PLACEHOLDER = Path("/nonexistent/tree-travels-as-archive")


class RayBackend:
    """Runs jobs on a Ray cluster the caller is connected to (`ray.init` done)."""

    name = "ray"

    def __init__(self, describe: dict[str, Any] | None = None) -> None:
        import ray

        self.ray = ray
        self._describe = describe or {}
        self._trees: dict[str, Any] = {}
        """Archive digest -> its object in the store, put once."""
        self._lock = threading.Lock()
        self._run = ray.remote(node.run_job)
        self._sweep = ray.remote(node.sweep)

    def describe(self) -> dict[str, Any]:
        """What `nmctl sandbox check` shows."""
        return {"backend": self.name, **self._describe}

    def tree(self, path: Path) -> tuple[str, Any]:
        """The tree's digest and its archive's object in the store (put once per content)."""
        digest, data = trees.pack(path)
        with self._lock:
            if digest not in self._trees:
                self._trees[digest] = self.ray.put(data)
            return digest, self._trees[digest]

    def run(self, job: Job, cancel: Cancel | None = None) -> Result:
        """Run one job on some node; never raises for the job's doings.

        Raises:
            BackendUnavailable: the cluster could not run it (nodes lost past the
                retries, a node without Docker); the message says why.
        """
        if job.port is not None:
            raise ValueError(f"job {job.name}: a port folder cannot travel; use gym_worker")
        digest, data = self.tree(job.tree)
        remote = dataclasses.replace(job, tree=PLACEHOLDER)
        ref = self._run.options(
            num_cpus=job.limits.cpus,
            scheduling_strategy="SPREAD",
            max_retries=RETRIES,
            name=f"nm:{job.name}"[:100],
        ).remote(remote, digest, data, node.code_digest())
        with cancellable(cancel, lambda: self.ray.cancel(ref)):
            return self._answer(ref, job, cancel)

    def _answer(self, ref: Any, job: Job, cancel: Cancel | None) -> Result:
        """The task's `Result`; a cancelled task ends within `2 * GRACE` seconds.

        Ray cancels a running task by interrupting it, which a task can miss
        (Ray's own races around cancellation): past `GRACE` seconds its worker
        is killed (`force`) and every node asked to sweep for the container it
        leaves; past twice that the job is given up on.
        """
        errors = self.ray.exceptions
        cancelled_at: float | None = None
        forced = False
        while True:
            try:
                return self.ray.get(ref, timeout=WAIT)
            except errors.GetTimeoutError:
                if cancel is None or not cancel.is_set():
                    continue
                cancelled_at = cancelled_at or time.monotonic()
                waited = time.monotonic() - cancelled_at
                if waited > 2 * GRACE:
                    log.warning("job %s: cancelled, and its node does not answer", job.name)
                    return Result(Outcome.KILLED, None, 0.0, detail="cancelled (no answer)")
                if waited > GRACE and not forced:
                    log.warning("job %s: cancelled, still running: killing its worker", job.name)
                    self.ray.cancel(ref, force=True)
                    self._sweep_nodes()
                    forced = True
            except errors.TaskCancelledError:
                return Result(Outcome.KILLED, None, 0.0, detail="cancelled")
            except errors.RayError as exc:
                if cancel is not None and cancel.is_set():  # its worker killed, as asked
                    return Result(Outcome.KILLED, None, 0.0, detail="cancelled")
                raise BackendUnavailable(
                    f"the cluster could not run job {job.name}: {exc}"
                ) from exc

    def _sweep_nodes(self) -> None:
        """Every live node sweeps for containers of dead workers (`node.sweep`), unawaited.

        A worker killed by a forced cancel leaves its container running.
        """
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        for entry in self.ray.nodes():
            if entry.get("Alive"):
                strategy = NodeAffinitySchedulingStrategy(entry["NodeID"], soft=False)
                self._sweep.options(num_cpus=0, scheduling_strategy=strategy).remote()

    def gym_worker(self, tree: Path, task: Any, limits: Any, **options: Any) -> Any:
        """A long-lived gym sandbox on some node (`remote_gym.RemoteGymWorker`)."""
        from .remote_gym import RemoteGymWorker

        return RemoteGymWorker(self, tree, task, limits, **options)

    def slots(self, cpus: float = 1.0) -> int:
        """Sandboxes of `cpus` cores each the cluster can run at once (at least 1)."""
        total = float(self.ray.cluster_resources().get("CPU", 0.0))
        return max(1, int(total // cpus))
