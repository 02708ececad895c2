"""Learned speciation: each genome carries a small network that says who is of its kind.

The compatibility network scores a pair from a few distances between the two
genomes (mean and RMS difference of the policy weights, difference in size,
difference of the mutators). Species form greedily, best genome first: a
genome joins the first species whose representative judges it compatible
(score above one half), else it founds a new one. Its weights live in the
genome's `compat` vector, so mutation rewrites and selection keeps them like
any other weights: how finely a population splits is evolved, not fixed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .genome import Genome

FEATURES = 4
HIDDEN = 6
SIZE = FEATURES + 1 + HIDDEN * FEATURES + HIDDEN + HIDDEN
"""linear weights, bias, hidden weights, hidden biases, hidden-to-output weights."""


def init_compat(rng: np.random.Generator, threshold: float = 0.1) -> np.ndarray:
    """Initial weights: compatible while the mean policy difference is under `threshold`."""
    linear = np.array([-2.0 / threshold, 0.0, -5.0, 0.0])
    return np.concatenate(
        [
            linear,
            [2.0],
            rng.normal(0.0, 0.1, HIDDEN * FEATURES),
            np.zeros(HIDDEN),
            rng.normal(0.0, 0.1, HIDDEN),
        ]
    ).astype(np.float32)


def features(a: Genome, b: Genome) -> np.ndarray:
    """Distances between two genomes (shorter policy padded with zeros)."""
    n = max(a.policy.size, b.policy.size)
    pa, pb = np.zeros(n), np.zeros(n)
    pa[: a.policy.size], pb[: b.policy.size] = a.policy, b.policy
    diff = np.abs(pa - pb)
    same = a.mutator.size == b.mutator.size and a.mutator.size > 0
    mutator = float(np.mean(np.abs(a.mutator - b.mutator))) if same else 0.0
    return np.array(
        [diff.mean(), np.sqrt(np.mean(diff**2)), abs(a.policy.size - b.policy.size) / n, mutator]
    )


def score(compat: np.ndarray, feats: np.ndarray) -> float:
    """Compatibility in (0, 1) by the network with weights `compat`."""
    w = compat.astype(np.float64)
    at = 0
    linear = w[at : at + FEATURES]
    at += FEATURES
    bias = w[at]
    at += 1
    w1 = w[at : at + HIDDEN * FEATURES].reshape(HIDDEN, FEATURES)
    at += HIDDEN * FEATURES
    b1 = w[at : at + HIDDEN]
    at += HIDDEN
    w2 = w[at : at + HIDDEN]
    logit = linear @ feats + bias + w2 @ np.tanh(w1 @ feats + b1)
    return float(1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50))))


def compatible(judge: Genome, other: Genome) -> bool:
    """Whether `judge`'s network puts `other` in its species."""
    if judge.compat.size != SIZE:
        return True  # no network: one species
    return score(judge.compat, features(judge, other)) > 0.5


def speciate(genomes: Sequence[Genome], order: Sequence[int]) -> list[list[int]]:
    """Species as lists of indices, visiting genomes in `order` (best first)."""
    species: list[list[int]] = []
    for i in order:
        for members in species:
            if compatible(genomes[members[0]], genomes[i]):
                members.append(int(i))
                break
        else:
            species.append([int(i)])
    return species
