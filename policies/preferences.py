"""Learned preferences over mutation operators: a Beta-Bernoulli bandit per target.

Each evaluated candidate is a pull of its operator's arm; it pays when the
candidate improved the score without breaking a passing test. An operator's
weight is its posterior mean, whose prior is pooled from the other targets'
experience (what repairs code elsewhere probably repairs it here) and weighs
as `PRIOR_WEIGHT` candidates, so a target's own outcomes soon dominate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PRIOR_WEIGHT = 20.0
"""How many candidates' worth of evidence the pooled prior counts for."""
STATE_VERSION = 1


@dataclass
class Arm:
    """One operator's record: candidates tried, and how many improved."""

    tried: int = 0
    improved: int = 0


@dataclass
class OperatorPreferences:
    """Per-operator outcomes of one target, and the prior pooled from the others."""

    arms: dict[str, Arm] = field(default_factory=dict)
    prior: dict[str, float] = field(default_factory=dict)
    """Pooled success rate of each operator elsewhere; absent means no evidence."""

    def weight(self, operator: str) -> float:
        """The posterior mean success rate: higher is tried earlier."""
        arm = self.arms.get(operator, Arm())
        prior = self.prior.get(operator, self.default_prior())
        return (arm.improved + PRIOR_WEIGHT * prior) / (arm.tried + PRIOR_WEIGHT)

    def default_prior(self) -> float:
        """For an operator never seen anywhere: the mean of the known ones, else 1/2."""
        return sum(self.prior.values()) / len(self.prior) if self.prior else 0.5

    def update(self, operator: str, improved: bool) -> None:
        """Count one evaluated candidate of `operator`."""
        arm = self.arms.setdefault(operator, Arm())
        arm.tried += 1
        arm.improved += int(improved)

    def to_dict(self) -> dict[str, Any]:
        """What the store keeps: the target's own arms (the prior is pooled afresh)."""
        return {
            "v": STATE_VERSION,
            "arms": {op: [arm.tried, arm.improved] for op, arm in sorted(self.arms.items())},
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any] | None, others: Iterable[Mapping[str, Any]] = ()
    ) -> OperatorPreferences:
        """A target's preferences from its stored state and the other targets' states."""
        return cls(arms=_arms(data), prior=pooled(others))


def pooled(states: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Success rate per operator over several targets, with a uniform Beta(1, 1) prior."""
    tried: dict[str, int] = {}
    improved: dict[str, int] = {}
    for state in states:
        for op, arm in _arms(state).items():
            tried[op] = tried.get(op, 0) + arm.tried
            improved[op] = improved.get(op, 0) + arm.improved
    return {op: (improved[op] + 1) / (tried[op] + 2) for op in tried}


def _arms(data: Mapping[str, Any] | None) -> dict[str, Arm]:
    if not data or data.get("v") != STATE_VERSION:
        return {}
    return {op: Arm(int(t), int(i)) for op, (t, i) in data.get("arms", {}).items()}
