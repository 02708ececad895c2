"""The running daemon: a scheduled job per target, hot registration, and a clean stop.

APScheduler runs one job per valid target, from its schedule, with at most one
instance per target and missed ticks coalesced; a semaphore bounds how many
cycles run at once across targets. A watchdog observer reloads `targets/` a
moment after it changes (editors write in several steps): new files are
scheduled, changed ones rescheduled, removed ones unscheduled, and a file that
became invalid is logged while its last valid definition keeps running. A
cycle that crashes is logged and its target backs off; the others go on.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from daemon.cycles import run_cycle
from daemon.cycles.events import Progress, to_dict
from daemon.cycles.report import CycleReport
from daemon.cycles.trigger import decide
from daemon.errors import Error
from daemon.ledger import LedgerError, open_ledger
from daemon.locks import TargetBusy
from daemon.registry import TargetSpec, UnknownTarget, load_registry
from daemon.service import notify
from daemon.store import open_store
from policies.status import CycleStatus
from policies.trigger import TriggerPolicy
from sandbox.backend import Backend

log = logging.getLogger("nmd")

DEBOUNCE_SECONDS = 1.0
WRITES = frozenset({"created", "modified", "deleted", "moved", "closed"})
BACKOFF_SECONDS = (60.0, 300.0, 1800.0)
"""After 1, 2, 3+ crashed cycles in a row, a target waits this long before the next."""


@dataclass
class TargetState:
    """What the daemon tracks of one target between ticks."""

    spec: TargetSpec
    paused: bool = False
    running: bool = False
    failures: int = 0
    not_before: float = 0.0
    last: dict[str, Any] | None = None


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
    ) -> None:
        self.state, self.folder, self.backend = state, targets, backend
        self.policy = policy
        """A policy for every target (tests); None: each target's own ``[trigger] policy``."""
        self.slots = threading.BoundedSemaphore(max_concurrent)
        self.stopping = threading.Event()
        self.targets: dict[str, TargetState] = {}
        self.lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        )
        self.observer = Observer()
        self._reload_timer: threading.Timer | None = None

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
        notify.notify(READY=1, STATUS=self.status_line())
        log.info("ready: %s", self.status_line())

    def stop(self, grace: float = 30.0) -> bool:
        """Stop scheduling, wait up to `grace` seconds for running cycles; True if they ended."""
        notify.notify(STOPPING=1, STATUS="stopping")
        self.stopping.set()
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
        line = f"{len(self.targets)} target(s)"
        if running:
            line += f", running: {', '.join(running)}"
        if paused:
            line += f", paused: {', '.join(paused)}"
        return line

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
                    # An interval target ticks once right away, then on its schedule.
                    first = datetime.now(UTC) if spec.config.schedule.every else None
                    self.scheduler.add_job(
                        self.tick,
                        trigger,
                        args=[name],
                        id=name,
                        name=name,
                        **({"next_run_time": first} if first else {}),
                    )
                    log.info("scheduled %s: %s", name, trigger)
        notify.notify(STATUS=self.status_line())

    # --- ticks --------------------------------------------------------------------------

    def tick(self, name: str) -> None:
        """A scheduled tick: ask the policy, and run a cycle if it says act."""
        target = self.targets.get(name)
        if target is None or target.paused or self.stopping.is_set():
            return
        if time.monotonic() < target.not_before:
            log.info("%s: backing off after %d failed cycle(s)", name, target.failures)
            return
        store = open_store(self.state)
        try:
            decision, row = decide(target.spec, store, time.time(), self.policy)
        except LedgerError as exc:
            log.error("%s: cannot read its repository: %s", name, exc)
            self._back_off(target)
            return
        finally:
            store.close()
        state = " ".join(f"{k}={v}" for k, v in (decision.features or {}).items())
        explored = " (exploring)" if decision.explored else ""
        log.info("%s: %s%s [%s]: %s", name, decision.action, explored, state, decision.reason)
        if decision.act:
            with contextlib.suppress(Error):  # `run` has logged why
                self.run(name, forced=False, share=decision.share, decision=row)

    def run(
        self,
        name: str,
        *,
        forced: bool,
        share: float = 1.0,
        decision: int | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """One cycle of `name`, within the concurrency bound; its report.

        `share` is the share of the target's budget the trigger policy gave it, and
        `decision` the id of that decision in the log; the cycle's ROI goes to the policy.

        Raises:
            Error: why no cycle ran, or why it crashed (logged here, in one line
                unless it is a bug): a cycle of the target is already running
                (`TargetBusy`), nmd is stopping, or the repository is missing or unusable.
        """
        target = self.targets[name]
        with self.slots:
            if self.stopping.is_set():
                log.info("%s: no cycle: nmd is stopping", name)
                raise Error(f"{name}: nmd is stopping; no new cycle starts")
            missing = missing_repository(target.spec)
            if missing:
                log.error("%s", missing)
                raise LedgerError(missing)
            report = self._cycle(target, forced, share, decision, progress)
        if report.status == CycleStatus.ERROR:
            self._back_off(target)
        else:
            target.failures = 0
        target.last = report.to_dict()
        log.info("%s: cycle %d %s: %s", name, report.cycle, report.status, report.reason)
        return target.last

    def _cycle(
        self,
        target: TargetState,
        forced: bool,
        share: float,
        decision: int | None,
        progress: Progress | None,
    ) -> CycleReport:
        """Run the cycle, marked running; turn each failure into an `Error` saying why."""
        name = target.spec.name
        target.running = True
        notify.notify(STATUS=self.status_line())
        try:
            with open_store(self.state) as store:
                return run_cycle(
                    target.spec,
                    self.state,
                    self.backend,
                    store,
                    forced=forced,
                    share=share,
                    decision=decision,
                    stop=self.stopping,
                    progress=progress,
                )
        except TargetBusy as exc:
            log.info("%s: %s", name, exc)
            raise
        except Error as exc:  # the ledger's: a repository it cannot use
            log.error("%s: %s", name, exc)
            self._back_off(target)
            raise Error(f"{name}: {exc}") from None
        except Exception as exc:
            log.exception("%s: the cycle crashed", name)
            self._back_off(target)
            raise Error(f"{name}: the cycle crashed: {type(exc).__name__}: {exc}") from None
        finally:
            target.running = False
            notify.notify(STATUS=self.status_line())

    def _back_off(self, target: TargetState) -> None:
        target.failures += 1
        pause = BACKOFF_SECONDS[min(target.failures, len(BACKOFF_SECONDS)) - 1]
        target.not_before = time.monotonic() + pause
        log.warning(
            "%s: backing off %.0fs after %d failed cycle(s)",
            target.spec.name,
            pause,
            target.failures,
        )

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
        return self.run(name, forced=True, progress=lambda event: send(to_dict(event)))

    def status(self) -> dict[str, Any]:
        """Every target: paused, running, next tick, failures, and the last cycle's report."""
        targets = {}
        for name, target in self.targets.items():
            job = self.scheduler.get_job(name)
            next_run = job.next_run_time.isoformat() if job and job.next_run_time else None
            targets[name] = {
                "paused": target.paused,
                "running": target.running,
                "next_run": next_run,
                "failures": target.failures,
                "last": target.last,
            }
        return {"status": self.status_line(), "targets": targets}


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


def missing_repository(spec: TargetSpec) -> str | None:
    """Why `spec`'s repository cannot be had: missing, and no example to make it from."""
    if spec.repo.exists() or spec.example is not None:
        return None
    return (
        f"{spec.name}: its repository {spec.repo} is missing "
        "(and it has no example to recreate it from)"
    )


def _trigger(spec: TargetSpec) -> Any:
    schedule = spec.config.schedule
    if schedule.cron:
        return CronTrigger.from_crontab(schedule.cron)
    return IntervalTrigger(seconds=schedule.every)
