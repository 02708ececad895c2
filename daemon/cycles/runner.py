"""Run one cycle of a target: under its lock, recovered, recorded, and learned from.

The kind of cycle is found from a lazy ``"module:Class"`` string (as Gymnasium
registers environments), so a weights cycle never imports libcst and a code
cycle never imports torch.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from daemon.cluster.connect import placement
from daemon.cycles.base import Cycle, CycleContext
from daemon.cycles.events import Progress, ignore
from daemon.cycles.learn import Lessons
from daemon.cycles.report import CycleReport
from daemon.ledger import open_ledger
from daemon.locks import target_lock
from daemon.registry import TargetConfig, TargetSpec
from daemon.store import Store
from policies.status import CycleStatus
from sandbox.backend import Backend

if TYPE_CHECKING:  # a weights cycle never loads libcst
    from policies.ordering import Ordering

log = logging.getLogger(__name__)

KINDS = {
    "code": "daemon.cycles.code:CodeCycle",
    "objective": "daemon.cycles.objective:ObjectiveCycle",
    "weights": "daemon.cycles.weights:WeightsCycle",
}
"""The cycle class of each kind of cycle, imported on first use."""


def cycle_kind(config: TargetConfig) -> str:
    """The kind of cycle a target runs: a code target scored by gym or metric tunes."""
    objective = getattr(config, "objective", None)
    if config.kind == "code" and objective is not None and objective.kind != "tests":
        return "objective"
    return config.kind


def cycle_class(kind: str) -> type[Cycle]:
    """The cycle class of cycles of `kind` (see `cycle_kind`)."""
    module, _, name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def run_cycle(
    spec: TargetSpec,
    state: Path,
    backend: Backend,
    store: Store,
    *,
    forced: bool = True,
    share: float = 1.0,
    decision: int | None = None,
    ordering: Ordering | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> CycleReport:
    """Run one cycle of `spec` under its lock; never leaves the repository dirty.

    Args:
        spec: the target.
        state: the state directory (locks, snapshots, run folders).
        backend: this machine's sandbox (a cluster's instead for ``where = "cluster"``).
        store: where the cycle, its candidates and what it taught are recorded.
        forced: requested by a person (`nmctl cycle`), not decided by the trigger.
        share: the share of the target's budget the trigger gave this cycle, in (0, 1].
        decision: the id of the trigger decision that started a scheduled cycle.
        ordering: a code cycle's search order (default: the target's own).
        progress: told what the cycle does (`daemon.cycles.events`).
        stop: once set, no new batch or generation starts and nothing is committed.

    Raises:
        TargetBusy: another process is running a cycle of this target.
        LedgerError: the repository cannot be opened.
        ClusterError: the target's cluster is unreachable and the settings say to fail.
    """
    if not 0.0 < share <= 1.0:
        raise ValueError(f"budget share must be in (0, 1], got {share}")
    lessons = Lessons(spec, store, forced=forced, decision=decision, ordering=ordering)
    spec, backend = placement(spec, backend, state)
    with target_lock(state, spec.name), contextlib.closing(open_ledger(spec)) as ledger:
        recovered = ledger.recover()
        cycle_id, number = store.start_cycle(spec.name, forced=forced, head=ledger.head())
        context = CycleContext(
            spec,
            state,
            backend,
            store,
            ledger,
            cycle_id,
            number,
            progress or ignore,
            stop or threading.Event(),
            share,
            lessons.ordering,
        )
        report = run_kind(context)
        report.recovered = recovered
        record_end(store, cycle_id, report)
    lessons.after(report)
    return report


def run_kind(context: CycleContext) -> CycleReport:
    """The cycle of the target's kind; a crash becomes an error report with its reason."""
    cycle = cycle_class(cycle_kind(context.spec.config))(context)
    try:
        return cycle.run()
    except Exception as exc:
        log.exception("%s: cycle %d failed", context.spec.name, context.number)
        return cycle.report(CycleStatus.ERROR, f"{type(exc).__name__}: {exc}")


def record_end(store: Store, cycle_id: int, report: CycleReport) -> None:
    """Close the cycle's row in the store with its status, reason and figures."""
    store.end_cycle(
        cycle_id,
        report.status,
        report.reason,
        baseline_score=report.baseline_score,
        best_score=report.best_score,
        candidates=report.candidates,
        sandbox_seconds=report.sandbox_seconds,
        commit_sha=report.commit,
    )
