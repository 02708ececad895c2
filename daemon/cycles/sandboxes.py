"""The sandboxes a weights cycle plays its episodes in, and what it leaves running meanwhile.

One pool of long-lived sandboxes (`sandbox.gym_pool`) serves a step of the
cycle (training: layout, baseline, evolution, selection, acceptance); a
spare pool starts during evolution so that the verification finds fresh
sandboxes ready. A pool is told to quit as soon as its step ends and waited
for only when the cycle ends (`finish`), as is the drawing of the training
curve, so that neither holds up the commit or the verification.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sandbox.backend import Backend
from sandbox.gym_eval import GymEvaluation, GymTask
from sandbox.gym_pool import GymPool
from sandbox.job import Limits

log = logging.getLogger(__name__)


class CycleSandboxes:
    """Every pool of one cycle, the current one, the spare, and background work."""

    def __init__(
        self, backend: Backend, state: Path, limits: Limits, workers: int, name: str
    ) -> None:
        self.backend, self.state, self.limits = backend, state, limits
        self.workers, self.name = workers, name
        self.current: GymPool | None = None
        self.spare: GymPool | None = None
        self.pools: list[GymPool] = []
        self.background: list[threading.Thread] = []
        self.seconds = 0.0
        """Sandbox seconds of the pools already finished."""

    def pool(self, tree: Path, task: GymTask, step: str) -> GymPool:
        """Long-lived sandboxes on `tree` (not started yet)."""
        pool = GymPool(
            self.backend,
            tree,
            task,
            port_root=self.state / "run" / "jobs",
            limits=self.limits,
            workers=self.workers,
            name=f"{self.name}-{step}",
        )
        self.pools.append(pool)
        return pool

    @contextmanager
    def use(self, pool: GymPool) -> Iterator[GymPool]:
        """`pool` plays this step's episodes in the block, and is told to quit after it."""
        self.current = pool.start()
        try:
            yield pool
        finally:
            self.current = None
            pool.stop()  # its sandboxes end while the cycle goes on; `finish` waits

    def play(self, genomes: Sequence[Any], seeds: Sequence[int]) -> GymEvaluation:
        """One episode per genome and seed, in the current step's sandboxes."""
        assert self.current is not None, "played outside `use`"
        return self.current(genomes, seeds)

    def describe(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The policy's spaces and layout for `kwargs`, read in the current sandboxes."""
        assert self.current is not None, "described outside `use`"
        return self.current.describe(kwargs)

    def start_spare(self, task: GymTask) -> None:
        """Start the verification's sandboxes now, on the current step's tree."""
        assert self.current is not None, "a spare is started during a step"
        self.spare = self.pool(self.current.tree, task, "verify").start()

    def for_verification(self, tree: Path, task: GymTask, same_code: bool) -> GymPool:
        """The spare sandboxes if the commit's code is the one they loaded, else new ones."""
        spare, self.spare = self.spare, None
        if spare is not None and same_code:
            return spare
        if spare is not None:
            spare.stop()
        return self.pool(tree, task, "verify")

    def in_background(self, name: str, work: Callable[[], None]) -> None:
        """Run `work` in a thread; `finish` waits for it; its error is logged."""

        def run() -> None:
            try:
                work()
            except Exception:
                log.exception("%s failed", name)

        thread = threading.Thread(target=run, name=name)
        thread.start()
        self.background.append(thread)

    def finish(self) -> float:
        """Wait for every sandbox and background work; the sandbox seconds of them all."""
        for pool in self.pools:
            pool.close()
            self.seconds += pool.sandbox_seconds
        for thread in self.background:
            thread.join()
        self.pools, self.spare, self.background = [], None, []
        return self.seconds
