"""A weights target's seeds and network shape: what a cycle must know before it evolves.

Seeds: training episodes use seeds below `policies.neuro.evolve.HOLDOUT`; each
cycle has its own block of held-out seeds above it (acceptance, validation,
verification, in that order, never overlapping), so no cycle's decision reuses
another's episodes. Shape: the torch module is described in the sandbox (its
parameters by name and shape); only MLPs (linear layers in order) evolve.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from policies.neuro.evolve import holdout_seeds
from policies.neuro.network import MLPSpec

SEED_BLOCK = 100_000
"""Held-out seeds per cycle: acceptance, validation and verification fit in one block."""

Layout = list[tuple[str, tuple[int, ...]]]


def cycle_seeds(number: int, holdout: int, validation: int) -> dict[str, list[int]]:
    """Cycle `number`'s held-out seeds: acceptance, validation, verification (disjoint)."""
    base = number * SEED_BLOCK
    return {
        "acceptance": holdout_seeds(holdout, base),
        "validation": holdout_seeds(validation, base + holdout),
        "verification": holdout_seeds(holdout, base + holdout + validation),
    }


def mlp_layout(doc: dict[str, Any], entry: str, env: str) -> tuple[MLPSpec, Layout]:
    """The MLP shape of a policy as the sandbox described it, and its parameter layout.

    Raises:
        ValueError: the policy is not linear layers in order (weight, then bias), or does
            not fit the environment's spaces; the message says which.
    """
    obs, act = doc["observation_space"], doc["action_space"]
    if obs.get("kind") != "box":
        raise ValueError(f"{env}: observations of kind {obs.get('kind')} are not supported")
    obs_dim = int(np.prod(obs["shape"]))
    if act.get("kind") == "discrete":
        act_dim = int(act["n"])
    elif act.get("kind") == "box" and len(act["shape"]) == 1:
        act_dim = int(act["shape"][0])
    else:
        raise ValueError(f"{env}: actions of kind {act.get('kind')} are not supported")
    layout = [(str(name), tuple(int(d) for d in shape)) for name, shape in doc["parameters"]]
    where = f"{entry} on {env} ({obs_dim} observations, {act_dim} actions)"
    if [name for name, _ in doc["state"]] != [name for name, _ in layout]:
        raise ValueError(f"{where} has buffers besides its parameters; only parameters evolve")
    shapes = [shape for _, shape in layout]
    weights, biases = shapes[0::2], shapes[1::2]
    sizes = [obs_dim]
    ok = bool(shapes) and len(weights) == len(biases)
    for w, b in zip(weights, biases, strict=False):
        ok = ok and len(w) == 2 and w[1] == sizes[-1] and b == (w[0],)
        sizes.append(w[0] if len(w) == 2 else -1)
    if not ok or sizes[-1] != act_dim:
        raise ValueError(
            f"{where} is not an MLP Neuromutant can evolve: its parameters "
            f"{[f'{n} {list(s)}' for n, s in layout]} must be linear layers in order, "
            f"weight then bias, from {obs_dim} inputs to {act_dim} outputs, and its "
            "constructor must take obs_dim, act_dim and hidden "
            "(see targets/examples/cartpole/policy.py)"
        )
    return MLPSpec(obs_dim, act_dim, tuple(sizes[1:-1])), layout
