"""The running daemon: a scheduled job per target, a queue of cycles, hot registration, a stop.

APScheduler runs one job per valid target, from its schedule, with at most one
instance per target and missed ticks coalesced. A tick that decides to act
queues a scheduled request, `nmctl cycle` a forced one, in `CycleQueue`: at
most `max_concurrent` cycles run at once, forced requests first, and scheduled
cycles yield their slot to waiting forced ones (then run again). Targets due
when nmd starts are ticked cheapest first (`daemon.service.cost`). Every
running cycle logs its progress every 10 s (`daemon.service.progress`). A
watchdog observer reloads `targets/` a moment after it changes (editors write
in several steps): new files are scheduled, changed ones rescheduled, removed
ones unscheduled, and a file that became invalid is logged while its last
valid definition keeps running. A cycle that crashes is logged and its target
backs off; the others go on. See docs/service.md.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from daemon.cycles.events import Progress, to_dict
from daemon.cycles.trigger import decide
from daemon.errors import Error
from daemon.ledger import LedgerError, open_ledger
from daemon.registry import TargetSpec, UnknownTarget, load_registry
from daemon.service import notify
from daemon.service.control import Reply
from daemon.service.cost import cheapest_first
from daemon.service.dispatch import Dispatcher
from daemon.service.progress import PROGRESS_EVERY
from daemon.service.queue import CycleQueue
from daemon.service.requests import Request
from daemon.service.targets import TargetState
from daemon.service.views import status_sections
from daemon.store import open_store
from policies.trigger import TriggerPolicy
from sandbox.backend import Backend

log = logging.getLogger("nmd")

DEBOUNCE_SECONDS = 1.0
WRITES = frozenset({"created", "modified", "deleted", "moved", "closed"})


class Service:
    """Schedules cycles of every registered target until stopped."""

    def __init__(
        self,
        state: Path,
        targets: Path,
        backend: Backend,
        *,
        max_concurrent: int = 1,
        policy: TriggerPolicy | None = None,
        progress_every: float = PROGRESS_EVERY,
    ) -> None:
        self.state, self.folder, self.backend = state, targets, backend
        self.policy = policy
        """A policy for every target (tests); None: each target's own ``[trigger] policy``."""
        self.queue = CycleQueue(max_concurrent)
        self.stopping = threading.Event()
        self.dispatcher = Dispatcher(
            state,
            backend,
            self.queue,
            self.stopping,
            lambda: notify.notify(STATUS=self.status_line()),
            progress_every,
        )
        self.targets: dict[str, TargetState] = {}
        self.lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        )
        self.observer = Observer()
        self._reload_timer: threading.Timer | None = None
        self._due: list[str] = []
        """Interval targets loaded before `start`: their first tick is `start`'s, cheapest first."""

    # --- life ---------------------------------------------------------------------------

    def start(self) -> None:
        """Load the targets, schedule them, watch the folder, and tell systemd we are up."""
        self.reload()
        self.scheduler.start()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.observer.schedule(_Changes(self._debounced_reload), str(self.folder))
        self.observer.start()
        interval = notify.watchdog_interval()
        if interval:
            # From the scheduler's own thread pool: if it hangs, systemd restarts us.
            self.scheduler.add_job(
                lambda: notify.notify(WATCHDOG=1), IntervalTrigger(seconds=interval), id="watchdog"
            )
        _thread(self._heartbeats, "progress")
        notify.notify(READY=1, STATUS=self.status_line())
        log.info("ready: %s", self.status_line())
        due, self._due = self._due, []
        if due:
            _thread(lambda: self._first_ticks(due), "first-ticks")

    def stop(self, grace: float = 30.0) -> bool:
        """Stop scheduling, wait up to `grace` seconds for running cycles; True if they ended."""
        notify.notify(STOPPING=1, STATUS="stopping")
        self.stopping.set()
        self.queue.wake()
        self.observer.stop()
        if self._reload_timer:
            self._reload_timer.cancel()
        self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + grace
        while any(t.running for t in self.targets.values()):
            if time.monotonic() > deadline:
                log.warning("stopping with cycles still running; the next start recovers them")
                return False
            self.stopping.wait(0.1)
        log.info("stopped")
        return True

    def status_line(self) -> str:
        """A one-line summary, for systemd's STATUS= and the log."""
        running = [n for n, t in self.targets.items() if t.running]
        paused = [n for n, t in self.targets.items() if t.paused]
        waiting, _ = self.queue.snapshot()
        line = f"{len(self.targets)} target(s)"
        if running:
            line += f", running: {', '.join(running)}"
        if waiting:
            line += f", queued: {', '.join(r.target for r in waiting)}"
        if paused:
            line += f", paused: {', '.join(paused)}"
        return line

    def _heartbeats(self) -> None:
        """Ask each running cycle's progress log for its line when one is due, until stopped."""
        while not self.stopping.is_set():
            _, running = self.queue.snapshot()
            for slot in running:
                slot.progress.heartbeat()
            due = min((s.progress.due() for s in running), default=time.monotonic() + 1.0)
            self.stopping.wait(min(1.0, max(0.01, due - time.monotonic())))

    # --- registration -------------------------------------------------------------------

    def _debounced_reload(self) -> None:
        with self.lock:
            if self._reload_timer:
                self._reload_timer.cancel()
            self._reload_timer = threading.Timer(DEBOUNCE_SECONDS, self.reload)
            self._reload_timer.daemon = True
            self._reload_timer.start()

    def reload(self) -> None:
        """Bring the jobs in line with the target files; invalid files keep their last job."""
        registry = load_registry(self.folder, self.state)
        for path, error in registry.errors.items():
            kept = " (its last valid definition keeps running)" if path.stem in self.targets else ""
            log.error("invalid target file: %s%s", error, kept)
        broken = {p.stem for p in registry.errors}
        with self.lock:
            for name in list(self.targets):
                if name not in registry.targets and name not in broken:
                    self.scheduler.remove_job(name)
                    del self.targets[name]
                    log.info("unscheduled %s: its target file is gone", name)
            for name, spec in registry.targets.items():
                known = self.targets.get(name)
                if known and known.spec.config == spec.config:
                    continue
                trigger = _trigger(spec)
                if known:
                    known.spec = spec
                    self.scheduler.reschedule_job(name, trigger=trigger)
                    log.info("rescheduled %s: %s", name, trigger)
                else:
                    self.targets[name] = TargetState(spec)
                    self._add_job(name, spec, trigger)
                    log.info("scheduled %s: %s", name, trigger)
        notify.notify(STATUS=self.status_line())

    def _add_job(self, name: str, spec: TargetSpec, trigger: Any) -> None:
        """Schedule `name`; an interval target ticks once right away, then on its schedule.

        Before `start`, that first tick is left to `start`, which ticks the targets
        due cheapest first; once running, a new target's job ticks it at once.
        """
        first = None
        if spec.config.schedule.every:
            if self.scheduler.running:
                first = datetime.now(UTC)
            else:
                self._due.append(name)
        self.scheduler.add_job(
            self.tick,
            trigger,
            args=[name],
            id=name,
            name=name,
            **({"next_run_time": first} if first else {}),
        )

    def _first_ticks(self, names: list[str]) -> None:
        """The start's ticks, cheapest target first: each is queued before the next decides."""
        specs = [self.targets[n].spec for n in names if n in self.targets]
        with open_store(self.state) as store:
            ordered = cheapest_first(specs, store)
        for spec in ordered:
            try:
                request = self._decide(spec.name)
            except Exception:  # a bug: the other targets still get their first tick
                log.exception("%s: its first tick failed", spec.name)
                continue
            if request is None or self.stopping.is_set():
                continue
            with contextlib.suppress(Error):  # `startable` has logged why
                self.dispatcher.startable(self.targets[spec.name])
                if self.queue.put(request):
                    _thread(lambda r=request: self._serve_quietly(r), f"cycle-{spec.name}")

    # --- ticks --------------------------------------------------------------------------

    def tick(self, name: str) -> None:
        """A scheduled tick: ask the policy, and run a cycle if it says act."""
        request = self._decide(name)
        if request is not None:
            self._serve_quietly(request, queued=False)

    def _serve_quietly(self, request: Request, queued: bool = True) -> None:
        target = self.targets.get(request.target)
        if target is None:
            self.queue.cancel(request)
            return
        with contextlib.suppress(Error):  # `serve` has logged why
            self.dispatcher.serve(target, request, queued=queued)

    def _decide(self, name: str) -> Request | None:
        """The scheduled request a tick of `name` makes, or None (skip, paused, busy...)."""
        target = self.targets.get(name)
        if target is None or target.paused or self.stopping.is_set():
            return None
        if time.monotonic() < target.not_before:
            log.info("%s: backing off after %d failed cycle(s)", name, target.failures)
            return None
        if self.queue.busy(name):
            log.info("%s: tick skipped: a cycle of it is already queued or running", name)
            return None
        store = open_store(self.state)
        try:
            decision, row = decide(target.spec, store, time.time(), self.policy)
        except LedgerError as exc:
            log.error("%s: cannot read its repository: %s", name, exc)
            target.back_off()
            return None
        finally:
            store.close()
        state = " ".join(f"{k}={v}" for k, v in (decision.features or {}).items())
        explored = " (exploring)" if decision.explored else ""
        log.info("%s: %s%s [%s]: %s", name, decision.action, explored, state, decision.reason)
        if not decision.act:
            return None
        return Request(name, False, target.spec.config.kind, decision.share, row)

    def run(
        self,
        name: str,
        *,
        forced: bool,
        share: float = 1.0,
        decision: int | None = None,
        progress: Progress | None = None,
        gone: Callable[[], bool] | None = None,
    ) -> dict[str, Any]:
        """One cycle of `name`, queued for a slot; its report.

        `share` is the share of the target's budget the trigger policy gave it, and
        `decision` the id of that decision in the log; the cycle's ROI goes to the policy.
        `progress` hears the queue's `Queued` and `Started` and the cycle's events;
        `gone` says whether whoever asked has left (a queued request is then cancelled).

        Raises:
            Error: why no cycle ran, or why it crashed (logged here, in one line
                unless it is a bug): a cycle of the target is already running
                (`TargetBusy`), nmd is stopping, the request was cancelled while
                queued, or the repository is missing or unusable.
        """
        target = self.targets[name]
        request = Request(name, forced, target.spec.config.kind, share, decision)
        return self.dispatcher.serve(target, request, progress=progress, gone=gone)

    # --- control ------------------------------------------------------------------------

    def handle(self, request: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> Any:
        """Answer one control-socket request (see `daemon.service.control`)."""
        command, name = request.get("cmd"), request.get("name")
        if command == "status":
            return self.status()
        if command == "reload":
            self.reload()
            return self.status()
        if command not in ("cycle", "pause", "resume", "log"):
            raise Error(
                f"unknown command {command!r}: expected status, cycle, pause, resume, reload or log"
            )
        if not isinstance(name, str):
            raise Error(f"{command}: 'name' must be a target's name, got {type(name).__name__}")
        target = self.targets.get(name)
        if target is None:
            raise UnknownTarget(name, list(self.targets))
        if command in ("pause", "resume"):
            target.paused = command == "pause"
            log.info("%s: %sd by request", name, command)
            notify.notify(STATUS=self.status_line())
            return self.status()["targets"][name]
        if command == "log":
            limit = request.get("limit", 50)
            if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= 10_000:
                raise Error(f"log: 'limit' must be a number of commits, 1 to 10000, not {limit!r}")
            return open_ledger(target.spec).log(name, limit)
        gone = send.closed if isinstance(send, Reply) else None
        return self.run(name, forced=True, progress=lambda e: send(to_dict(e)), gone=gone)

    def status(self) -> dict[str, Any]:
        """Every target, each running cycle (progress, time left), and each queued request."""
        waiting, running = self.queue.snapshot()
        queued = {r.target for r in waiting}
        targets = {}
        for name, target in self.targets.items():
            job = self.scheduler.get_job(name)
            when = getattr(job, "next_run_time", None)  # none yet before the scheduler starts
            next_run = when.isoformat() if when else None
            targets[name] = {
                "paused": target.paused,
                "running": target.running,
                "queued": name in queued,
                "next_run": next_run,
                "failures": target.failures,
                "last": target.last,
            }
        return {
            "status": self.status_line(),
            "targets": targets,
            **status_sections(waiting, running),
        }


class _Changes(FileSystemEventHandler):
    """Calls back on any change to a ``*.toml`` file of the folder."""

    def __init__(self, callback: Any) -> None:
        self.callback = callback

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in WRITES:
            return  # reading the files ourselves raises opened/closed events
        paths = [event.src_path, getattr(event, "dest_path", "")]
        if any(str(p).endswith(".toml") for p in paths):
            self.callback()


def _trigger(spec: TargetSpec) -> Any:
    schedule = spec.config.schedule
    if schedule.cron:
        return CronTrigger.from_crontab(schedule.cron)
    return IntervalTrigger(seconds=schedule.every)


def _thread(run: Callable[[], None], name: str) -> None:
    threading.Thread(target=run, name=name, daemon=True).start()
