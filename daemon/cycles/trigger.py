"""The trigger in the daemon: what a tick sees of a target, and what it decides.

`decide` gathers the facts of a target from its repository and the store, asks
the target's trigger policy (``[trigger] policy``), logs the decision and keeps
it as the Q-table's pending action; `daemon.cycles.learn` hands the table its
reward once the cycle has run. The Q-table learns from every action whatever
policy took it (Q-learning is off-policy), so a target that switches from the
change rule starts warm.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from daemon.ledger import Ledger, LedgerError
from daemon.registry import TargetSpec
from daemon.store import Store
from policies.status import SEARCHED
from policies.trigger import (
    RECENT,
    ChangeRule,
    Decision,
    QTrigger,
    TriggerPolicy,
    TriggerState,
    features,
    state_key,
)

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
            except LedgerError:  # the commit is gone (history rewritten): treat as changed
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
        ledger.close()


def _changed_files(ledger: Ledger, head: str | None) -> int:
    changed = ledger.changed_since(head) if head else None
    return GONE if changed is None else changed


def load_trigger(spec: TargetSpec, data: Mapping[str, Any] | None) -> QTrigger:
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
        table = load_trigger(spec, data)
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
            "share": decision.share,
            "explored": int(decision.explored),
            "epsilon": epsilon,
            "state": dict(decision.features or {}),
            "q": dict(decision.q or {}),
            "reason": decision.reason,
        },
    )
    return decision, row
