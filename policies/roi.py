"""Return on investment of a cycle, and its exponential moving average per target.

A cycle's ROI is the score it gained per sandbox minute it spent. The gain
counts only what stayed: a cycle whose commit passed verification (status
``accepted``) gained ``best_score - baseline_score``; a rejected, reverted or
failed cycle gained nothing, whatever it spent. Sandbox minutes are the honest
cost, since they are what a cycle takes from the machine (the candidate count
ignores how long each candidate ran); a small floor keeps a cycle that spent
next to nothing (a cached baseline, all tests already passing) from dividing
by zero. Cycles that did not search (waiting for a human's edits, stopped by
a shutdown, interrupted) have no ROI: they say nothing about what acting pays.

Everything here is pure: the caller stores the points and passes the previous
EMA back in, so a restart continues the series where it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from policies.status import SEARCHED, CycleStatus

MIN_COST_MINUTES = 0.1
"""The least a searching cycle is taken to cost: six sandbox seconds."""
DEFAULT_ALPHA = 0.1
"""The EMA's weight of the newest point: about the last ten cycles matter."""


@dataclass(frozen=True)
class RoiPoint:
    """One cycle's return, and the moving average after it."""

    cycle: int
    """The target's cycle number."""
    status: str
    gain: float
    """Score gained and kept (0 unless accepted)."""
    cost: float
    """Sandbox minutes spent, at least `MIN_COST_MINUTES`."""
    roi: float
    """gain / cost: score per sandbox minute."""
    ema: float
    """The exponential moving average of `roi` up to and including this cycle."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


def gain_and_cost(
    status: str,
    baseline_score: float | None,
    best_score: float | None,
    sandbox_seconds: float,
) -> tuple[float, float] | None:
    """The score a cycle gained and kept, and the sandbox minutes it cost.

    Returns:
        ``(gain, cost)``, or None for a cycle that did not search.
    """
    if status not in SEARCHED:
        return None
    gain = 0.0
    if status == CycleStatus.ACCEPTED and baseline_score is not None and best_score is not None:
        gain = max(0.0, best_score - baseline_score)
    return gain, max(MIN_COST_MINUTES, sandbox_seconds / 60.0)


def next_ema(previous: float | None, value: float, alpha: float) -> float:
    """The EMA after `value`; the first value starts the series as itself."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    if previous is None:
        return value
    return previous + alpha * (value - previous)


def roi_point(
    report: Mapping[str, Any], previous_ema: float | None, alpha: float = DEFAULT_ALPHA
) -> RoiPoint | None:
    """The ROI point of a cycle report (`CycleReport.to_dict()`), or None if it did not search.

    Args:
        report: needs ``cycle``, ``status``, ``baseline_score``, ``best_score`` and
            ``sandbox_seconds``.
        previous_ema: the target's EMA before this cycle, None for its first point.
        alpha: the EMA's weight of this point.
    """
    spent = gain_and_cost(
        report["status"],
        report.get("baseline_score"),
        report.get("best_score"),
        float(report.get("sandbox_seconds") or 0.0),
    )
    if spent is None:
        return None
    gain, cost = spent
    roi = gain / cost
    return RoiPoint(
        int(report["cycle"]), report["status"], gain, cost, roi, next_ema(previous_ema, roi, alpha)
    )
