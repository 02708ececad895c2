"""What a cycle of a target is expected to cost, so that nmd starts with the cheapest.

A person who has just started nmd wants to see it do something: when several
targets are due at once, the quick ones go first (the example code target is
repaired in its first minute while the long weights runs wait). The cost is
the mean sandbox seconds of the target's last searching cycles in the store
(the same measure of cost as the ROI's), or, for a target with no history,
its budget's seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from daemon.registry import TargetSpec
from daemon.store import Store
from policies.status import SEARCHED

log = logging.getLogger("nmd")

RECENT = 3
"""Searching cycles the cost is averaged over."""


def expected_cost(spec: TargetSpec, store: Store) -> float:
    """Expected sandbox seconds of a cycle of `spec`: its recent cycles', else its budget."""
    rows = [r for r in store.cycles(spec.name, 20) if r["status"] in SEARCHED]
    spent = [_spent(r) for r in rows[:RECENT]]
    spent = [s for s in spent if s > 0]
    if spent:
        return sum(spent) / len(spent)
    return float(spec.config.budget.seconds)


def _spent(row: dict[str, Any]) -> float:
    """A cycle's sandbox seconds; its wall-clock seconds if it has none recorded."""
    if row["sandbox_seconds"]:
        return float(row["sandbox_seconds"])
    if row["ended_at"] and row["started_at"]:
        return max(0.0, float(row["ended_at"]) - float(row["started_at"]))
    return 0.0


def cheapest_first(specs: Iterable[TargetSpec], store: Store) -> list[TargetSpec]:
    """`specs` in order of expected cost, cheapest first (ties by name)."""
    specs = list(specs)
    costs = {spec.name: expected_cost(spec, store) for spec in specs}
    ordered = sorted(specs, key=lambda s: (costs[s.name], s.name))
    if len(ordered) > 1:
        log.info(
            "due at start, cheapest first: %s",
            ", ".join(f"{s.name} (~{costs[s.name]:.0f}s)" for s in ordered),
        )
    return ordered
