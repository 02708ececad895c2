"""Everything a cycle teaches, in one place: operator preferences, ROI, the trigger.

`Lessons` is opened before a cycle (the operator preferences a learned order
searches with, pooled across targets; the trigger's view just before a forced
cycle) and closed after it (`after`): the preferences updated by the search
are saved, the cycle's ROI and EMA recorded (`policies.roi`), and the Q-table
taught its reward: a scheduled cycle completes the decision that started it,
a forced one is taught as an act-large taken in the state just before it.
What a cycle taught is bookkeeping: if recording it fails, that is logged and
the cycle's report stands.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from daemon.cycles.report import CycleReport
from daemon.cycles.trigger import TRIGGER, load_trigger, trigger_state
from daemon.registry import TargetSpec, score_unit
from daemon.store import Store
from policies.preferences import OperatorPreferences
from policies.roi import RoiPoint, roi_point
from policies.trigger import ACT_LARGE, SHARES, TriggerState, features, state_key

if TYPE_CHECKING:  # a weights cycle never loads libcst
    from policies.ordering import Ordering

log = logging.getLogger(__name__)

OPERATORS = "operators"
"""The name of the operator preferences' state in the store's ``policy_state``."""


def load_preferences(store: Store, target: str) -> OperatorPreferences:
    """A target's operator preferences, with the prior pooled from every other target."""
    others = [s for t, s in store.policy_states(OPERATORS).items() if t != target]
    return OperatorPreferences.from_dict(store.policy_state(target, OPERATORS), others)


class Lessons:
    """What one cycle of a target learns from: opened before it, closed by `after`."""

    def __init__(
        self,
        spec: TargetSpec,
        store: Store,
        *,
        forced: bool,
        decision: int | None = None,
        ordering: Ordering | None = None,
    ) -> None:
        """`decision`: the id of the scheduled decision that starts the cycle, if any.

        Without `ordering`, a code target's own order is used (``[search] order``),
        with its stored operator preferences.
        """
        self.spec, self.store = spec, store
        self.forced, self.decision = forced, decision
        self.started = time.time()
        self.preferences: OperatorPreferences | None = None
        if ordering is None and spec.config.kind == "code":
            from policies.ordering import ordering_for

            self.preferences = load_preferences(store, spec.name)
            ordering = ordering_for(spec.config.search.order, self.preferences)
        self.ordering = ordering
        self.before: TriggerState | None = None
        if forced:
            try:
                self.before = trigger_state(spec, store, self.started)
            except Exception as exc:  # the cycle will say what is wrong with the repository
                log.warning("%s: no trigger state before the forced cycle: %s", spec.name, exc)

    def after(self, report: CycleReport) -> RoiPoint | None:
        """Save what `report`'s cycle taught; the ROI point, or None (none, or it failed)."""
        try:
            if self.preferences is not None:
                self.store.save_policy_state(self.spec.name, OPERATORS, self.preferences.to_dict())
            return learn(
                self.spec,
                self.store,
                report.to_dict(),
                forced=self.forced,
                before=self.before,
                decision=self.decision,
                now=self.started,
            )
        except Exception:
            log.exception("%s: could not record what cycle %d taught", self.spec.name, report.cycle)
            return None


def learn(
    spec: TargetSpec,
    store: Store,
    report: dict[str, Any],
    *,
    forced: bool,
    before: TriggerState | None = None,
    decision: int | None = None,
    now: float | None = None,
) -> RoiPoint | None:
    """After a cycle: record its ROI and EMA, and teach the Q-table its reward.

    Args:
        spec: the target.
        store: where the series, the table and the decisions live.
        report: the cycle's `CycleReport.to_dict()`.
        forced: a forced cycle is taught as an act-large taken in `before`.
        before: the facts just before a forced cycle (None: the table is not taught).
        decision: the id of the scheduled decision that started the cycle.
        now: when a forced cycle's decision is logged (default: the time now).

    Returns:
        The ROI point, or None for a cycle that did not search.
    """
    point = record_roi(spec, store, report)
    roi = None if point is None else point.roi
    reward = None if roi is None else roi - spec.config.trigger.hurdle
    shown = teach_trigger(spec, store, roi, before if forced else None, forced=forced)
    outcome = (int(report["cycle"]), str(report["status"]), roi, reward)
    if forced and shown:
        log_forced(spec, store, shown, outcome, time.time() if now is None else now)
    elif decision is not None:
        store.decision_outcome(decision, *outcome)
    if point is not None:
        log.info(
            "%s: cycle %d ROI %.4g per sandbox minute (gain %.3f, %.1f min), EMA %.4g",
            spec.name,
            point.cycle,
            point.roi,
            point.gain,
            point.cost,
            point.ema,
        )
    return point


def record_roi(spec: TargetSpec, store: Store, report: dict[str, Any]) -> RoiPoint | None:
    """Record the cycle's ROI point, continuing the target's EMA; None if it did not search."""
    alpha = spec.config.trigger.alpha
    made: list[RoiPoint | None] = []

    def make(previous: float | None) -> dict[str, Any] | None:
        made.append(roi_point(report, previous, alpha))
        return None if made[0] is None else made[0].to_dict()

    store.add_roi(spec.name, make, alpha, score_unit(spec.config))
    return made[0]


def teach_trigger(
    spec: TargetSpec,
    store: Store,
    roi: float | None,
    before: TriggerState | None,
    *,
    forced: bool,
) -> dict[str, Any]:
    """Hand the Q-table the cycle's ROI; for a forced cycle, what the table saw before it."""
    shown: dict[str, Any] = {}

    def change(data: dict[str, Any] | None) -> dict[str, Any]:
        table = load_trigger(spec, data)
        if forced:
            if before is None:
                return table.to_dict()
            table.observe(before)
            feats = features(before, table.options.hurdle)
            shown.update(state=feats, q=table.values(state_key(feats)))
            table.begin(before, ACT_LARGE)
        table.record(roi)
        return table.to_dict()

    store.update_policy_state(spec.name, TRIGGER, change)
    return shown


def log_forced(
    spec: TargetSpec,
    store: Store,
    shown: dict[str, Any],
    outcome: tuple[int, str, float | None, float | None],
    at: float,
) -> None:
    """Log a forced cycle in the decision log, as the act-large it is taught as."""
    cycle, status, roi, reward = outcome
    store.add_decision(
        spec.name,
        {
            "at": at,
            "policy": "forced",
            "forced": 1,
            "action": ACT_LARGE,
            "share": SHARES[ACT_LARGE],
            "explored": 0,
            "epsilon": None,
            "state": shown["state"],
            "q": shown["q"],
            "reason": "forced by request (nmctl cycle); taught as act-large",
            "cycle": cycle,
            "status": status,
            "roi": roi,
            "reward": reward,
        },
    )
