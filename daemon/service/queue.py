"""nmd's queue of cycles: at most `slots` run at once; forced requests first, then by arrival.

Every cycle, scheduled by a tick or forced by `nmctl cycle`, is a `Request`
that waits here for a slot. The order is forced before scheduled, and first
come, first served within each; a request whose target already runs a cycle
lets the ones behind it pass (two cycles of one target never run at once).
Each change of the queue asks scheduled cycles to yield their slot when forced
requests wait and no slot is free (`daemon.service.yielding`); a cycle that
yielded is put back with its first arrival, so it runs again before scheduled
requests that came later.

Waiting needs no thread of the queue's own: each request's thread waits on
the queue's condition, and takes its slot when its turn comes.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable

from daemon.service.requests import Request, Slot
from daemon.service.yielding import choose_yields

log = logging.getLogger("nmd")


class CycleQueue:
    """Requests waiting for one of `slots` slots, and the slots' running cycles."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"at least one cycle must be able to run, not {slots}")
        self.slots = slots
        self._cond = threading.Condition()
        self._waiting: list[Request] = []
        self._running: list[Slot] = []
        self._arrivals = itertools.count()

    def put(self, request: Request) -> bool:
        """Queue `request`; False (not queued) for a scheduled one whose target is busy.

        A scheduled request whose target already waits or runs adds nothing: that
        cycle will run anyway. A forced request is always queued.
        """
        with self._cond:
            if not request.forced and self._busy(request.target):
                return False
            if request.seq < 0:
                request.seq = next(self._arrivals)
            self._insert(request)
            self._changed()
        return True

    def take(
        self, request: Request, start: Callable[[Request], Slot], timeout: float
    ) -> Slot | None:
        """Wait up to `timeout` seconds for `request`'s turn; then its slot, made by `start`.

        Returns None when its turn has not come (or it is no longer queued).
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._turn(request):
                left = deadline - time.monotonic()
                if left <= 0 or request not in self._waiting:
                    return None
                self._cond.wait(left)
            self._waiting.remove(request)
            slot = start(request)
            self._running.append(slot)
            self._changed()
            return slot

    def cancel(self, request: Request) -> bool:
        """Take `request` out of the queue; whether it was still waiting."""
        with self._cond:
            if request not in self._waiting:
                return False
            self._waiting.remove(request)
            self._changed()
            return True

    def release(self, slot: Slot, *, requeue: bool = False) -> bool:
        """Free `slot`; with `requeue`, put its request back; whether it was put back.

        It is not put back when a request of its target waits: that one runs the
        target next (a forced cycle that took its slot takes up its work too).
        """
        with self._cond:
            self._running.remove(slot)
            back = requeue and not self._busy(slot.target)
            if back:
                self._insert(slot.request)
            self._changed()
            return back

    def busy(self, target: str) -> bool:
        """Whether a cycle of `target` waits or runs."""
        with self._cond:
            return self._busy(target)

    def snapshot(self) -> tuple[list[Request], list[Slot]]:
        """The waiting requests in their order, and the running slots, oldest first."""
        with self._cond:
            return list(self._waiting), list(self._running)

    def ahead(self, request: Request) -> tuple[list[Request], list[Slot]]:
        """What `request` waits for: the requests before it, and the running cycles."""
        with self._cond:
            if request not in self._waiting:
                return [], list(self._running)
            return self._waiting[: self._waiting.index(request)], list(self._running)

    def wake(self) -> None:
        """Wake every waiting request (nmd is stopping: they give up)."""
        with self._cond:
            self._cond.notify_all()

    # --- under the condition's lock ---------------------------------------------------------

    def _busy(self, target: str) -> bool:
        return any(r.target == target for r in self._waiting) or any(
            s.target == target for s in self._running
        )

    def _insert(self, request: Request) -> None:
        self._waiting.append(request)
        self._waiting.sort(key=lambda r: (r.priority, r.seq))

    def _turn(self, request: Request) -> bool:
        """Whether a slot is free and `request` is the first waiting one that may take it."""
        if len(self._running) >= self.slots:
            return False
        busy = {s.target for s in self._running}
        first = next((r for r in self._waiting if r.target not in busy), None)
        return first is request

    def _changed(self) -> None:
        """Wake the waiting requests, and ask cycles to make room for forced ones."""
        for slot, wanted in choose_yields(self._waiting, self._running, self.slots):
            slot.stop.ask(wanted.target)
            where = "generation checkpoint" if slot.request.kind == "weights" else "batch"
            log.info(
                "%s: yields its slot to the forced cycle of %s at its next %s; it runs "
                "again afterwards",
                slot.target,
                wanted.target,
                where,
            )
        self._cond.notify_all()
