"""When a scheduled tick acts: a small interface, so a learned policy can plug in.

The rule here is the simple one the learned policy is measured against: act
when something changed since the last cycle (the target's files, or the last
cycle committed a change that may enable the next), or when there was none;
otherwise skip, since the same tree would give the same result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TriggerState:
    """What the policy sees at a tick."""

    tree: str
    """The target's current tree hash."""
    last_tree: str | None
    """The tree hash the last cycle started from, None before the first."""
    last_status: str | None
    """How the last cycle ended (accepted, rejected, reverted, waiting, error, ...)."""


@dataclass(frozen=True)
class Decision:
    """Skip, or act with a share of the target's budget."""

    act: bool
    budget: float
    """Fraction of the target's budget to spend (0 when skipping)."""
    reason: str


class TriggerPolicy(Protocol):
    """Decides, at each scheduled tick, whether a cycle runs."""

    name: str

    def decide(self, state: TriggerState) -> Decision:
        """The decision for this tick."""
        ...


class ChangeRule:
    """Act on change; skip an unchanged tree whose last cycle found nothing."""

    name = "change-rule"

    def decide(self, state: TriggerState) -> Decision:
        """Act unless the tree is the one the last (unfruitful) cycle already searched."""
        if state.last_tree is None:
            return Decision(True, 1.0, "no cycle yet")
        if state.tree != state.last_tree:
            return Decision(True, 1.0, "the target changed since the last cycle")
        if state.last_status in ("rejected",):
            return Decision(False, 0.0, "nothing changed since the last cycle found nothing")
        return Decision(True, 1.0, f"the last cycle ended {state.last_status}")
