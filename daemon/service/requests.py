"""The vocabulary of nmd's queue: a request for a cycle, the slot it runs in, its own stop.

A `Request` is made by a tick (scheduled) or by `nmctl cycle` (forced) and
waits in `daemon.service.queue`; once it has a slot it runs as a `Slot`,
whose `CycleStop` is the cycle's ``stop`` event: set when nmd stops, or when
the slot must be handed to a forced request (the cycle then yields at its next
checkpoint or batch, commits nothing, and its request goes back in the queue).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from daemon.service.progress import ProgressLog


@dataclass(eq=False)
class Request:
    """One cycle asked for, waiting for a slot (or running in one)."""

    target: str
    forced: bool
    kind: str = "code"
    """The target's kind: a weights cycle yields at a checkpoint, so it is asked first."""
    share: float = 1.0
    decision: int | None = None
    since: float = field(default_factory=time.time)
    """When it was first queued (wall clock); kept when a yielded request is put back."""
    seq: int = -1
    """Its place in arrival order, given by the queue; kept when it is put back."""

    @property
    def priority(self) -> int:
        """0 for a forced request, 1 for a scheduled one: forced ones go first."""
        return 0 if self.forced else 1

    def view(self, now: float | None = None) -> dict[str, Any]:
        """The request as `nmctl status` shows it."""
        now = time.time() if now is None else now
        return {
            "target": self.target,
            "forced": self.forced,
            "kind": self.kind,
            "since": self.since,
            "waiting": round(max(0.0, now - self.since), 1),
        }


class CycleStop(threading.Event):
    """A cycle's own ``stop``: set when nmd stops, or when its slot is wanted (`ask`).

    Cycles only ever read it with `is_set()`, so this Event also answers True
    while nmd's stopping event is set, without copying it.
    """

    def __init__(self, stopping: threading.Event) -> None:
        super().__init__()
        self.stopping = stopping
        self.wanted_by: str | None = None
        """The forced request's target this cycle yields to, once asked."""

    def is_set(self) -> bool:
        """Whether the cycle must end now: nmd stops, or it yields its slot."""
        return self.stopping.is_set() or super().is_set()

    def ask(self, wanted_by: str) -> None:
        """Ask the cycle to yield its slot to a forced cycle of `wanted_by`."""
        self.wanted_by = wanted_by
        self.set()

    @property
    def yielding(self) -> bool:
        """Whether the cycle was asked to yield (not just stopped with nmd)."""
        return super().is_set()


@dataclass(eq=False)
class Slot:
    """A request running: since when, its stop, and its progress."""

    request: Request
    stop: CycleStop
    progress: ProgressLog
    started: float = field(default_factory=time.time)

    @property
    def target(self) -> str:
        """The target the slot runs a cycle of."""
        return self.request.target

    def view(self) -> dict[str, Any]:
        """The running cycle as `nmctl status` shows it (its progress and remaining time)."""
        return {
            "target": self.target,
            "forced": self.request.forced,
            "kind": self.request.kind,
            "started": self.started,
            "yielding": self.stop.yielding,
            "yields_to": self.stop.wanted_by,
            **self.progress.view(),
        }
