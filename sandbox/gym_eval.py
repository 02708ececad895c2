"""What a gym evaluation takes and gives: the task, weights as data, returns per seed.

The host never imports a target's policy module: it ships weights as data (one
float32 blob per population, `pack`) and the gym runner (`runners/gym_run.py`)
builds the policy inside the sandbox from the target's own tree. `gym_pool`
runs the sandboxes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

WEIGHTS_FILE = "weights.f32"
GYM_ENV = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
STARTUP = 30.0
"""Seconds a job may spend importing torch and gymnasium before the first episode."""


@dataclass(frozen=True)
class GymTask:
    """What a weights target is scored on: an environment and the class that acts in it."""

    env_id: str
    """A gymnasium id, e.g. ``CartPole-v1``."""
    network: str
    """The torch module acting in it: ``module:Class`` in the target's tree, built as
    ``Class(**network_kwargs)``."""
    network_kwargs: Mapping[str, Any] = field(default_factory=dict)
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    max_steps: int | None = None
    """Cut episodes at this many steps; None keeps the environment's own limit."""


class Weights(Protocol):
    """Anything with a flat policy vector and the constructor arguments it fits (a genome)."""

    @property
    def policy(self) -> np.ndarray:
        """Parameters in the order of the module's ``parameters()``."""
        ...

    @property
    def policy_kwargs(self) -> Mapping[str, Any]:
        """Constructor arguments that override the task's (e.g. evolved hidden sizes)."""
        ...


@dataclass(frozen=True)
class NamedWeights:
    """Weights as a state dict (a committed weights file), loaded strictly by name."""

    tensors: Mapping[str, np.ndarray]
    policy_kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GymEvaluation:
    """Returns of a population, one row per genome and one column per seed."""

    returns: np.ndarray
    """Shape [genomes, seeds]; NaN for a genome that could not be built or run."""
    lengths: np.ndarray
    """Episode lengths, same shape; 0 where `returns` is NaN."""
    env_steps: int
    """Environment steps taken in all."""
    errors: Mapping[int, str]
    """Genome index -> why it has no returns."""
    wall_time: float
    """Seconds the whole evaluation took."""
    rollout_time: float
    """Seconds spent playing episodes inside the sandboxes, summed over them."""

    @property
    def fitness(self) -> np.ndarray:
        """Mean return per genome; -inf for a genome with no returns."""
        with np.errstate(invalid="ignore"):
            mean = self.returns.mean(axis=1)
        return np.where(np.isnan(mean), -np.inf, mean)


def pack(genomes: Sequence[Weights | NamedWeights]) -> tuple[bytes, list[dict[str, Any]]]:
    """The weights file of a batch and each genome's entry (its offsets into that file)."""
    chunks: list[np.ndarray] = []
    entries: list[dict[str, Any]] = []
    offset = 0
    for index, genome in enumerate(genomes):
        entry: dict[str, Any] = {"id": str(index), "kwargs": dict(genome.policy_kwargs)}
        if isinstance(genome, NamedWeights):
            entry["tensors"] = {}
            for name, tensor in genome.tensors.items():
                array = np.ascontiguousarray(tensor, dtype="<f4")
                entry["tensors"][name] = [offset, list(array.shape)]
                chunks.append(array.ravel())
                offset += array.size
        else:
            array = np.ascontiguousarray(genome.policy, dtype="<f4").ravel()
            entry["flat"] = [offset, array.size]
            chunks.append(array)
            offset += array.size
        entries.append(entry)
    blob = np.concatenate(chunks).tobytes() if chunks else b""
    return blob, entries
