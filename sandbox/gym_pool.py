"""Evaluate populations of one target in long-lived sandboxes, for a whole cycle.

A `GymPool` keeps one sandbox per worker (`gym_worker.GymWorker`): torch, the
environment and the policy are loaded once, and each population costs its
environment steps plus the milliseconds of sending weights and returns. A
population is cut into a few slices per worker, which the workers take from a
shared queue. A worker that dies or hangs is killed, replaced, and its slice
played again by the new one (up to `retries` times): episodes depend only on
the weights and the seeds, so the generation's results are the same as if
nothing had happened.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .backend import Backend
from .gym_eval import GymEvaluation, GymTask, NamedWeights, Weights, pack
from .gym_worker import GymWorker, TargetBroken, WorkerLost
from .job import Limits

log = logging.getLogger(__name__)

LIFETIME = 3600.0
"""Seconds a sandbox lives at most; a cycle that runs longer gets a fresh one."""
SLICES_PER_WORKER = 4
MIN_SLICE = 16
"""Episodes a slice has at least: in lockstep, one forward pass serves them all."""


def _split(count: int, parts: int) -> list[range]:
    parts = max(1, min(parts, count))
    bounds = np.linspace(0, count, parts + 1).round().astype(int)
    return [range(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]


def slice_count(episodes: int, workers: int) -> int:
    """Slices to cut `episodes` into: a few per worker, each big enough to batch well."""
    return max(workers, min(SLICES_PER_WORKER * workers, episodes // MIN_SLICE))


def plan(genomes: int, seeds: int, parts: int) -> list[tuple[range, range]]:
    """`parts` slices of the (genome, seed) grid: by genome, or by seed for few genomes.

    A population is cut by genome; a few genomes on many seeds (a baseline, a
    verification: the new weights, which play long episodes, beside the old) are cut
    by seed, so that every worker plays an even share.
    """
    if genomes >= 2 * parts or seeds < parts:
        return [(part, range(seeds)) for part in _split(genomes, parts)]
    return [(range(genomes), part) for part in _split(seeds, parts)]


class GymPool:
    """``pool(genomes, seeds)`` plays one episode per genome and seed in the sandbox.

    Use as a context manager: the sandboxes start on entry (their start-up
    overlaps whatever the caller does next) and are removed on exit.
    """

    def __init__(
        self,
        backend: Backend,
        tree: Path,
        task: GymTask,
        *,
        port_root: Path,
        limits: Limits | None = None,
        workers: int = 2,
        name: str = "gym",
        retries: int = 2,
        lifetime: float = LIFETIME,
    ) -> None:
        self.backend = backend
        self.tree = tree
        self.task = task
        self.port_root = port_root
        self.limits = limits or Limits(memory=1024**3, timeout=300.0)
        """Each sandbox's; `timeout` bounds one request (a slice of a population)."""
        self.name = name
        self.retries = retries
        self.lifetime = lifetime
        self.workers: list[Any] = [None] * max(1, workers)
        self.spent = 0.0
        """Seconds of sandboxes already closed."""
        self.replaced = 0
        self.stopping: list[Any] = []
        """Sandboxes told to quit, not yet waited for."""
        self.executor = ThreadPoolExecutor(max_workers=len(self.workers))

    def __enter__(self) -> GymPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> GymPool:
        """Start every sandbox now; each is waited for at its first request."""
        for k in range(len(self.workers)):
            self._worker(k)
        return self

    def stop(self) -> None:
        """Tell every sandbox to quit, without waiting: `close` waits (and kills laggards)."""
        running = [w for w in self.workers if w is not None]
        self.workers = [None] * len(self.workers)
        for worker in running:
            worker.stop()
        self.stopping += running

    def close(self) -> None:
        """Stop every sandbox and wait until each has ended and is removed."""
        self.stop()
        for worker in self.stopping:
            worker.close()
            self.spent += worker.seconds
        self.stopping = []
        self.executor.shutdown()

    @property
    def sandbox_seconds(self) -> float:
        """Sandbox seconds so far: every sandbox's start-up and requests, summed."""
        alive = [w for w in [*self.workers, *self.stopping] if w is not None]
        return self.spent + sum(w.seconds for w in alive)

    # --- requests -----------------------------------------------------------------------------

    def describe(self, kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        """The policy's spaces and parameter layout, read in the sandbox.

        Raises:
            ValueError: the policy or environment cannot be loaded; the message says why.
        """
        reply = self._ask(0, {"op": "describe", "kwargs": dict(kwargs or {})}, b"")
        if reply.get("error"):
            task = self.task
            raise ValueError(f"cannot describe {task.network} on {task.env_id}: {reply['error']}")
        return reply

    def __call__(
        self, genomes: Sequence[Weights | NamedWeights], seeds: Sequence[int]
    ) -> GymEvaluation:
        """Play one episode per genome and seed; a slice that cannot be played gets NaN."""
        started = time.monotonic()
        n, s = len(genomes), len(seeds)
        returns = np.full((n, s), np.nan)
        lengths = np.zeros((n, s), dtype=np.int64)
        errors: dict[int, str] = {}
        slices = plan(n, s, slice_count(n * s, len(self.workers)))
        replies = self._share(slices, genomes, seeds)
        env_steps, rollout = 0, 0.0
        for (rows, columns), reply in zip(slices, replies, strict=True):
            if reply.get("error"):
                errors.update({i: str(reply["error"]) for i in rows})
                continue
            env_steps += int(reply.get("env_steps", 0))
            rollout += float(reply.get("rollout_seconds", 0.0))
            for k, i in enumerate(rows):
                key = str(k)
                if key in reply["returns"]:
                    returns[i, columns.start : columns.stop] = reply["returns"][key]
                    lengths[i, columns.start : columns.stop] = reply["lengths"][key]
                else:
                    errors[i] = reply.get("errors", {}).get(key, "no returns came back")
        for i in errors:
            returns[i] = np.nan  # a genome lost on one seed slice has no mean
        return GymEvaluation(
            returns=returns,
            lengths=lengths,
            env_steps=env_steps,
            errors=errors,
            wall_time=time.monotonic() - started,
            rollout_time=rollout,
        )

    def _share(
        self, slices: list[tuple[range, range]], genomes: Sequence[Any], seeds: Sequence[int]
    ) -> list[dict[str, Any]]:
        """Replies to every slice, played by the workers side by side.

        Each worker takes the next slice nobody took yet until none is left: one
        that drew short episodes takes more slices, so none waits long for another.
        """
        replies: list[dict[str, Any]] = [{} for _ in slices]
        queue = iter(range(len(slices)))
        lock = threading.Lock()

        def work(k: int) -> None:
            while True:
                with lock:
                    index = next(queue, None)
                if index is None:
                    return
                rows, columns = slices[index]
                chunk = [genomes[i] for i in rows]
                replies[index] = self._play(k, chunk, [seeds[j] for j in columns])

        busy = min(len(self.workers), len(slices))
        for future in [self.executor.submit(work, k) for k in range(busy)]:
            future.result()
        return replies

    def _play(self, k: int, genomes: Sequence[Any], seeds: Sequence[int]) -> dict[str, Any]:
        blob, entries = pack(genomes)
        doc = {"op": "evaluate", "genomes": entries, "seeds": [int(x) for x in seeds]}
        reply = self._ask(k, doc, blob)
        if not reply.get("error") and not _complete(reply, len(genomes), len(seeds)):
            return {"error": f"sandbox {self.name}-{k} answered with a malformed result"}
        return reply

    def _ask(self, k: int, doc: dict[str, Any], blob: bytes) -> dict[str, Any]:
        """Worker `k`'s answer; a lost worker is replaced and asked again, `retries` times."""
        why = ""
        for attempt in range(self.retries + 1):
            worker = self._worker(k)
            try:
                return worker.request(doc, blob)
            except TargetBroken as exc:
                return {"error": str(exc)}
            except WorkerLost as exc:
                why = str(exc)
                log.warning(
                    "%s; %s", why, "replacing it" if attempt < self.retries else "giving up"
                )
                self._retire(k)
                self.replaced += 1
        return {"error": f"lost {self.retries + 1} sandboxes in a row: {why}"}

    # --- the sandboxes ------------------------------------------------------------------------

    def _worker(self, k: int) -> Any:
        worker = self.workers[k]
        if worker is None:
            # A cluster backend keeps its sandboxes on its nodes (`cluster.remote_gym`).
            spawn = getattr(self.backend, "gym_worker", None)
            options = {
                "port_root": self.port_root,
                "lifetime": self.lifetime,
                "name": f"{self.name}-{k}",
            }
            if spawn is not None:
                worker = spawn(self.tree, self.task, self.limits, **options)
            else:
                worker = GymWorker(self.backend, self.tree, self.task, self.limits, **options)
            self.workers[k] = worker
        return worker

    def _retire(self, k: int) -> None:
        worker, self.workers[k] = self.workers[k], None
        if worker is not None:
            worker.close()
            self.spent += worker.seconds


def _complete(reply: dict[str, Any], genomes: int, seeds: int) -> bool:
    """Whether a reply has, for each genome, either `seeds` finite returns or an error."""
    try:
        returns, lengths, errors = reply["returns"], reply["lengths"], reply.get("errors", {})
        for key in map(str, range(genomes)):
            if key in errors:
                continue
            row, count = returns[key], lengths[key]
            if len(row) != seeds or len(count) != seeds:
                return False
            if not all(np.isfinite(float(x)) for x in row):
                return False
        return True
    except (KeyError, TypeError, ValueError):
        return False
