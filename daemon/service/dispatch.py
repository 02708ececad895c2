"""One request's way through nmd: queued, told why it waits, run in its slot, put back if it yields.

`Dispatcher.serve` is what a tick and `nmctl cycle` both call. It queues the
request (`daemon.service.queue`), tells its client at once whether it waits
and for what (`Queued`), then that it starts (`Started`), and runs the cycle
with the slot's own stop and a progress log wrapping the client's callback. A
cycle that yielded its slot to a forced one ends `stopped`, is put back in the
queue with its first arrival, and runs again when its turn comes (a weights
cycle resumes from its checkpoint). A request still queued is dropped when nmd
stops, or when its client hangs up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.cycles import run_cycle
from daemon.cycles.events import Progress, Queued, Started, ignore
from daemon.cycles.report import CycleReport
from daemon.errors import Error, LedgerError
from daemon.locks import TargetBusy
from daemon.registry import TargetSpec
from daemon.service.eta import Budget
from daemon.service.progress import PROGRESS_EVERY, ProgressLog, duration
from daemon.service.queue import CycleQueue
from daemon.service.requests import CycleStop, Request, Slot
from daemon.service.targets import TargetState, missing_repository
from daemon.service.views import queued_detail
from daemon.store import open_store
from policies.status import CycleStatus
from sandbox.backend import Backend

log = logging.getLogger("nmd")

WAIT_STEP = 0.25
"""Seconds between two looks of a queued request at its client (gone?) and at nmd (stopping?)."""


class Dispatcher:
    """Runs requests through the queue for the service; see the module's docstring.

    Args:
        state: the state directory.
        backend: the sandbox every cycle runs in.
        queue: the slots and the waiting requests.
        stopping: set when nmd stops.
        changed: called whenever a cycle starts or ends (systemd's STATUS= line).
        progress_every: seconds between two progress lines of a cycle in the log.
    """

    def __init__(
        self,
        state: Path,
        backend: Backend,
        queue: CycleQueue,
        stopping: threading.Event,
        changed: Callable[[], None],
        progress_every: float = PROGRESS_EVERY,
    ) -> None:
        self.state, self.backend, self.queue, self.stopping = state, backend, queue, stopping
        self.changed, self.progress_every = changed, progress_every

    def startable(self, target: TargetState) -> None:
        """Raise `Error` (logged) if no cycle of `target` can start: nmd stops, no repository."""
        name = target.spec.name
        if self.stopping.is_set():
            log.info("%s: no cycle: nmd is stopping", name)
            raise Error(f"{name}: nmd is stopping; no new cycle starts")
        missing = missing_repository(target.spec)
        if missing:
            log.error("%s", missing)
            raise LedgerError(missing)

    def serve(
        self,
        target: TargetState,
        request: Request,
        *,
        queued: bool = False,
        progress: Progress | None = None,
        gone: Callable[[], bool] | None = None,
    ) -> dict[str, Any]:
        """Queue `request` (unless `queued`), run it in its slot, again after each yield.

        Returns the report of its cycle. Raises `Error` as `Service.run` says.
        """
        if not queued:
            self.startable(target)
        tell = progress or ignore
        while True:
            slot = self._await_slot(request, target.spec, tell, gone or _never, queued)
            report, again = self._run_slot(slot, target)
            if not again:
                return report
            queued, request.decision = True, None  # its decision was answered by the yield

    def _await_slot(
        self,
        request: Request,
        spec: TargetSpec,
        tell: Progress,
        gone: Callable[[], bool],
        queued: bool,
    ) -> Slot:
        """Wait for `request`'s slot, telling why it waits; raise `Error` if it gives up."""
        name, began = request.target, time.time()
        if not queued and not self.queue.put(request):
            raise Error(f"{name}: a cycle of it is already queued or running")
        told: tuple[Any, ...] | None = None

        def start(request: Request) -> Slot:
            budget = Budget.of(spec, request.share)
            progress = ProgressLog(name, budget, forward=tell, interval=self.progress_every)
            return Slot(request, CycleStop(self.stopping), progress)

        while (slot := self.queue.take(request, start, WAIT_STEP if told else 0.0)) is None:
            if self.stopping.is_set() or gone():
                self.queue.cancel(request)
                raise self._gave_up(request)
            told = self._tell_queued(request, tell, told)
        if self.stopping.is_set():  # its turn came as nmd began to stop
            self.queue.release(slot)
            raise self._gave_up(request)
        waited = time.time() - began
        tell(Started(round(waited, 1)))
        after = f" after {duration(waited)} in the queue" if waited >= 1 else ""
        log.info("%s: %s cycle starts%s", name, _kind(request), after)
        return slot

    def _tell_queued(
        self, request: Request, tell: Progress, told: tuple[Any, ...] | None
    ) -> tuple[Any, ...]:
        """Tell the client (and the log) why `request` waits, when that changed since `told`."""
        ahead, running = self.queue.ahead(request)
        count, line, key = queued_detail(request, ahead, running, self.queue.slots)
        if key != told:
            tell(Queued(count, line))
            log.info("%s: %s cycle queued: %s", request.target, _kind(request), line)
        return key

    def _gave_up(self, request: Request) -> Error:
        """The error of a request that left the queue: nmd stops, or its client left."""
        name = request.target
        if self.stopping.is_set():
            log.info("%s: no cycle: nmd is stopping", name)
            return Error(f"{name}: nmd is stopping; no new cycle starts")
        log.info("%s: %s cycle cancelled: its client left the queue", name, _kind(request))
        return Error(f"{name}: cancelled while queued (the client left)")

    def _run_slot(self, slot: Slot, target: TargetState) -> tuple[dict[str, Any], bool]:
        """Run the slot's cycle and free the slot; its report, and whether it was put back."""
        try:
            report = self._cycle(target, slot)
        except BaseException:
            self.queue.release(slot)
            raise
        name = target.spec.name
        yielded = slot.stop.yielding and report.status == CycleStatus.STOPPED
        requeue = yielded and not self.stopping.is_set()
        back = self.queue.release(slot, requeue=requeue)
        if report.status == CycleStatus.ERROR:
            target.back_off()
        else:
            target.failures = 0
        target.last = report.to_dict()
        log.info("%s: cycle %d %s: %s", name, report.cycle, report.status, report.reason)
        if back:
            log.info("%s: back in the queue after yielding to %s", name, slot.stop.wanted_by)
        elif requeue:
            log.info("%s: the forced cycle of %s takes up its work", name, slot.stop.wanted_by)
        return target.last, back

    def _cycle(self, target: TargetState, slot: Slot) -> CycleReport:
        """Run the cycle, marked running; turn each failure into an `Error` saying why."""
        name, request = target.spec.name, slot.request
        target.running = True
        self.changed()
        try:
            with open_store(self.state) as store:
                return run_cycle(
                    target.spec,
                    self.state,
                    self.backend,
                    store,
                    forced=request.forced,
                    share=request.share,
                    decision=request.decision,
                    stop=slot.stop,
                    progress=slot.progress,
                )
        except TargetBusy as exc:
            log.info("%s: %s", name, exc)
            raise
        except Error as exc:  # the ledger's: a repository it cannot use
            log.error("%s: %s", name, exc)
            target.back_off()
            raise Error(f"{name}: {exc}") from None
        except Exception as exc:
            log.exception("%s: the cycle crashed", name)
            target.back_off()
            raise Error(f"{name}: the cycle crashed: {type(exc).__name__}: {exc}") from None
        finally:
            target.running = False
            self.changed()


def _kind(request: Request) -> str:
    return "forced" if request.forced else "scheduled"


def _never() -> bool:
    return False
