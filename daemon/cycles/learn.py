"""The trigger policy in the daemon: what a tick sees, what it decides, what a cycle taught.

`decide` gathers the facts of a target from its repository and the store, asks
the target's policy (``[trigger] policy``), logs the decision and keeps it as
the Q-table's pending action. Every cycle, scheduled or forced (`nmctl cycle`,
through nmd or ``--local``), runs through `run_and_learn`, whose `learn` step
records the cycle's ROI and EMA and hands the reward to the Q-table; a forced
cycle teaches it as an act-large taken in the state just before it. The
Q-table learns from every action whatever policy took it (Q-learning is
off-policy), so a target that switches from the change rule starts warm.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daemon.ledger import Ledger
from daemon.registry import TargetSpec
from daemon.store import Store
from policies.roi import SEARCHED, RoiPoint, roi_point
from policies.trigger import (
    ACT_LARGE,
    BUDGETS,
    RECENT,
    ChangeRule,
    Decision,
    QTrigger,
    TriggerPolicy,
    TriggerState,
    features,
    state_key,
)

if TYPE_CHECKING:
    from daemon.cycles.code import CycleReport, Progress
    from sandbox.backend import Backend

log = logging.getLogger(__name__)

TRIGGER = "trigger"
"""The name of the Q-table's state in the store's ``policy_state``."""
GONE = 1_000_000
"""Files changed when the last cycle's commit is gone (history rewritten): many."""
HISTORY = 50
"""Cycles read back to find the latest searching ones."""


def trigger_state(spec: TargetSpec, store: Store, now: float) -> TriggerState:
    """The facts a tick of `spec` sees at `now`, from its repository and the store.

    A target whose repository is still to be made from its example is at its first
    cycle. Raises `LedgerError` when the repository cannot be read.
    """
    cycles = store.cycles(spec.name, HISTORY)
    searched = [c for c in cycles if c["status"] in SEARCHED]
    points = store.roi_series(spec.name, 2)
    ema = points[0]["ema"] if points else None
    previous = points[1]["ema"] if len(points) > 1 else None
    if not spec.repo.exists() and spec.example is not None:
        return TriggerState("", None, None, None, (), ema, previous, None)
    ledger = Ledger(spec.repo)
    try:
        last = cycles[0] if cycles else None
        last_tree = None
        if last and last["head"]:
            try:
                last_tree = ledger.tree(last["head"])
            except Exception:  # the commit is gone (history rewritten): treat as changed
                last_tree = ""
        changed = since = None
        if searched:
            changed = _changed_files(ledger, searched[0]["head"])
            ended = searched[0]["ended_at"] or searched[0]["started_at"]
            since = max(0.0, now - ended)
        return TriggerState(
            ledger.tree(),
            last_tree,
            last["status"] if last else None,
            changed,
            tuple(c["status"] for c in searched[:RECENT]),
            ema,
            previous,
            since,
        )
    finally:
        ledger.repo.close()


def _changed_files(ledger: Ledger, head: str | None) -> int:
    if not head:
        return GONE
    try:
        names = ledger.repo.git.diff("--name-only", head, "HEAD", "--")
    except Exception:  # the commit is gone
        return GONE
    return len(names.splitlines())


def load_policy(spec: TargetSpec, data: Mapping[str, Any] | None) -> QTrigger:
    """The target's Q-table from its stored state; unreadable state is a warning and afresh."""
    options = spec.config.trigger.options()
    try:
        return QTrigger.from_dict(data, options)
    except ValueError as exc:
        log.warning("%s: stored trigger policy unreadable (%s); starting afresh", spec.name, exc)
        return QTrigger(options)


def decide(
    spec: TargetSpec, store: Store, now: float, policy: TriggerPolicy | None = None
) -> tuple[Decision, int]:
    """A scheduled tick's decision, logged and remembered; and its id in the decision log.

    `policy` overrides the target's own (``[trigger] policy``). Raises `LedgerError`
    when the repository cannot be read.
    """
    state = trigger_state(spec, store, now)
    rule = policy
    if rule is None and spec.config.trigger.policy == ChangeRule.name:
        rule = ChangeRule()
    taken: list[tuple[Decision, float | None]] = []

    def change(data: dict[str, Any] | None) -> dict[str, Any]:
        table = load_policy(spec, data)
        table.observe(state)  # the previous decision's update, now that its next state is known
        if rule is None:
            epsilon: float | None = table.epsilon()
            decision = table.choose(state)
        else:
            epsilon, decision = None, rule.decide(state)
            feats = features(state, table.options.hurdle)
            decision = replace(decision, q=table.values(state_key(feats)), features=feats)
        table.begin(state, decision.action)
        taken.append((decision, epsilon))
        return table.to_dict()

    store.update_policy_state(spec.name, TRIGGER, change)
    decision, epsilon = taken[0]
    row = store.add_decision(
        spec.name,
        {
            "at": now,
            "policy": rule.name if rule else QTrigger.name,
            "forced": 0,
            "action": decision.action,
            "budget": decision.budget,
            "explored": int(decision.explored),
            "epsilon": epsilon,
            "state": dict(decision.features or {}),
            "q": dict(decision.q or {}),
            "reason": decision.reason,
        },
    )
    return decision, row


def learn(
    spec: TargetSpec,
    store: Store,
    report: Mapping[str, Any],
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
    trigger = spec.config.trigger
    made: list[RoiPoint | None] = []

    def make(previous: float | None) -> dict[str, Any] | None:
        made.append(roi_point(report, previous, trigger.alpha))
        return None if made[0] is None else made[0].to_dict()

    store.add_roi(spec.name, make, trigger.alpha)
    point = made[0]
    roi = None if point is None else point.roi
    reward = None if roi is None else roi - trigger.hurdle
    shown: dict[str, Any] = {}

    def change(data: dict[str, Any] | None) -> dict[str, Any]:
        table = load_policy(spec, data)
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
    outcome = (int(report["cycle"]), str(report["status"]), roi, reward)
    if forced and shown:
        store.add_decision(
            spec.name,
            {
                "at": time.time() if now is None else now,
                "policy": "forced",
                "forced": 1,
                "action": ACT_LARGE,
                "budget": BUDGETS[ACT_LARGE],
                "explored": 0,
                "epsilon": None,
                "state": shown["state"],
                "q": shown["q"],
                "reason": "forced by request (nmctl cycle); taught as act-large",
                "cycle": outcome[0],
                "status": outcome[1],
                "roi": roi,
                "reward": reward,
            },
        )
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


def run_and_learn(
    spec: TargetSpec,
    state: Path,
    backend: Backend,
    store: Store,
    *,
    forced: bool,
    budget: float = 1.0,
    decision: int | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> CycleReport:
    """Run a cycle (`daemon.cycles.code.run_cycle`), then `learn` from it.

    What the cycle taught is bookkeeping: if recording it fails, that is logged
    and the cycle's report still returned.
    """
    from daemon.cycles.code import run_cycle

    before = None
    started = time.time()
    if forced:
        try:
            before = trigger_state(spec, store, started)
        except Exception as exc:  # the cycle will say what is wrong with the repository
            log.warning("%s: no trigger state before the forced cycle: %s", spec.name, exc)
    report = run_cycle(
        spec, state, backend, store, forced=forced, budget=budget, progress=progress, stop=stop
    )
    try:
        learn(
            spec,
            store,
            report.to_dict(),
            forced=forced,
            before=before,
            decision=decision,
            now=started,
        )
    except Exception:
        log.exception("%s: could not record what cycle %d taught", spec.name, report.cycle)
    return report
