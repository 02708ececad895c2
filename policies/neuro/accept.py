"""Whether new weights beat the committed ones by more than the noise of their returns.

Both are scored on the same held-out seeds (episodes never trained on). The
candidate is accepted when the lower confidence bound of the mean difference
(paired when the seeds match, Welch's otherwise) exceeds the margin: a lucky
handful of episodes does not replace weights that were good on average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_EPISODES = 30


@dataclass(frozen=True)
class Verdict:
    """The comparison, with the numbers a commit message can quote."""

    accepted: bool
    candidate_mean: float
    incumbent_mean: float | None
    lower_bound: float
    """Lower confidence bound of candidate minus incumbent (of the candidate alone if none)."""
    reason: str


def compare(
    candidate: np.ndarray,
    incumbent: np.ndarray | None = None,
    *,
    margin: float = 0.0,
    z: float = 1.96,
    threshold: float | None = None,
) -> Verdict:
    """Judge held-out returns of new weights against those of the committed ones.

    Args:
        candidate: returns of the new weights, one per held-out episode.
        incumbent: returns of the committed weights on the same seeds, or None if none exist.
        margin: how much better the candidate must be, beyond the noise.
        z: width of the confidence bound in standard errors (1.96: about 97.5% one-sided).
        threshold: with no incumbent, the lower bound of the candidate's mean must reach this.
    """
    c = np.asarray(candidate, dtype=np.float64)
    if c.size < MIN_EPISODES or not np.isfinite(c).all():
        return Verdict(
            False,
            float(np.mean(c)) if c.size else math.nan,
            None,
            -math.inf,
            f"need {MIN_EPISODES} finite held-out returns, got {c.size}",
        )
    if incumbent is None:
        lower = c.mean() - z * c.std(ddof=1) / math.sqrt(c.size)
        floor = -math.inf if threshold is None else threshold
        ok = lower >= floor
        why = f"no committed weights; lower bound {lower:.2f} vs threshold {floor}"
        return Verdict(bool(ok), float(c.mean()), None, float(lower), why)
    i = np.asarray(incumbent, dtype=np.float64)
    if i.size == c.size:
        diff = c - i
        se = diff.std(ddof=1) / math.sqrt(diff.size)
    else:
        se = math.sqrt(c.var(ddof=1) / c.size + i.var(ddof=1) / i.size)
    gain = c.mean() - i.mean()
    lower = gain - z * se
    ok = lower > margin
    why = (
        f"mean {c.mean():.2f} vs {i.mean():.2f}: gain {gain:.2f}, lower bound {lower:.2f} "
        f"{'>' if ok else '<='} margin {margin}"
    )
    return Verdict(bool(ok), float(c.mean()), float(i.mean()), float(lower), why)
