"""Score policy weights on a gymnasium environment in the sandbox, a population at a time.

The host never imports a target's policy module: it ships weights as data (one
float32 file beside the job file) and the gym runner (`runners/gym_run.py`)
builds the policy inside the sandbox from the target's own tree. A population
is split into a few jobs run side by side, one container each, so evaluation
uses several cores; within a job every episode runs in lockstep with one
batched forward pass per step.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .backend import Backend
from .job import SRC, Job, Limits, Outcome, Result

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
    """Seconds the whole evaluation took, containers included."""
    rollout_time: float
    """Seconds spent playing episodes inside the sandboxes, summed over jobs."""
    results: tuple[Result, ...] = ()
    """The sandbox result of each job."""

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


def _payload(task: GymTask, op: str) -> dict[str, Any]:
    return {
        "op": op,
        "src": SRC,
        "threads": 1,
        "env": {"id": task.env_id, "kwargs": dict(task.env_kwargs), "max_steps": task.max_steps},
        "policy": {"entry": task.network, "kwargs": dict(task.network_kwargs)},
    }


def gym_job(
    tree: Path,
    task: GymTask,
    genomes: Sequence[Weights | NamedWeights],
    seeds: Sequence[int],
    limits: Limits | None = None,
    name: str = "gym",
) -> Job:
    """A job that plays one episode per genome and seed; `limits.timeout` covers the whole job."""
    blob, entries = pack(genomes)
    payload = {
        **_payload(task, "evaluate"),
        "weights": WEIGHTS_FILE,
        "genomes": entries,
        "seeds": [int(s) for s in seeds],
    }
    return Job(
        tree=tree,
        command=["{python}", "-m", "nmrunners.gym_run", "/sandbox/job/job.json"],
        limits=limits or Limits(memory=1024**3, timeout=STARTUP + 120.0),
        env=GYM_ENV,
        payload=payload,
        name=name,
        files={WEIGHTS_FILE: blob},
    )


def describe_job(tree: Path, task: GymTask, limits: Limits | None = None) -> Job:
    """A job that reports the environment's spaces and the policy's parameter layout."""
    return Job(
        tree=tree,
        command=["{python}", "-m", "nmrunners.gym_run", "/sandbox/job/job.json"],
        limits=limits or Limits(memory=1024**3, timeout=STARTUP + 30.0),
        env=GYM_ENV,
        payload=_payload(task, "describe"),
        name="gym-describe",
    )


def _failure(result: Result) -> str | None:
    """Why a job's result carries no usable document, or None."""
    doc = result.result if isinstance(result.result, dict) else None
    if doc and doc.get("error"):
        return str(doc["error"])
    if result.outcome is not Outcome.OK:
        return f"{result.outcome.value}: {result.detail or result.stderr.text[-500:]}"
    if doc is None:
        return "the runner ended without a result document"
    return None


def describe_policy(
    backend: Backend, tree: Path, task: GymTask, limits: Limits | None = None
) -> dict[str, Any]:
    """Spaces and parameter layout of the task's policy, read in the sandbox.

    Raises:
        ValueError: the policy or environment could not be loaded; the message says why.
    """
    result = backend.run(describe_job(tree, task, limits))
    problem = _failure(result)
    if problem:
        raise ValueError(f"cannot describe {task.network} on {task.env_id}: {problem}")
    return dict(result.result)


def _split(count: int, parts: int) -> list[range]:
    parts = max(1, min(parts, count))
    bounds = np.linspace(0, count, parts + 1).round().astype(int)
    return [range(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]


@dataclass
class GymEvaluator:
    """Evaluate populations of one target in the sandbox: ``evaluator(genomes, seeds)``.

    The population is cut into `jobs` slices run by up to `workers` containers at
    once. A slice whose container failed gives its genomes NaN returns and the
    container's reason; the other slices stand.
    """

    backend: Backend
    tree: Path
    task: GymTask
    limits: Limits = field(default_factory=lambda: Limits(memory=1024**3, timeout=300.0))
    """Per job; `timeout` is the whole job's, import time included."""
    workers: int = 2
    jobs: int | None = None
    """Slices per population; defaults to `workers`."""
    name: str = "gym"

    def __call__(
        self, genomes: Sequence[Weights | NamedWeights], seeds: Sequence[int]
    ) -> GymEvaluation:
        """Play one episode per genome and seed, in the sandbox."""
        started = time.monotonic()
        n, s = len(genomes), len(seeds)
        returns = np.full((n, s), np.nan)
        lengths = np.zeros((n, s), dtype=np.int64)
        errors: dict[int, str] = {}
        slices = _split(n, self.jobs or self.workers)

        def run(part: range) -> Result:
            job = gym_job(self.tree, self.task, [genomes[i] for i in part], seeds, self.limits)
            return self.backend.run(dataclasses.replace(job, name=f"{self.name}-{part.start}"))

        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            results = list(pool.map(run, slices))
        env_steps, rollout = 0, 0.0
        for part, result in zip(slices, results, strict=True):
            problem = _failure(result)
            if problem:
                errors.update({i: problem for i in part})
                continue
            doc = result.result
            env_steps += int(doc.get("env_steps", 0))
            rollout += float(doc.get("rollout_seconds", 0.0))
            for k, i in enumerate(part):
                key = str(k)
                if key in doc["returns"]:
                    returns[i] = doc["returns"][key]
                    lengths[i] = doc["lengths"][key]
                else:
                    errors[i] = doc.get("errors", {}).get(key, "no returns came back")
        return GymEvaluation(
            returns=returns,
            lengths=lengths,
            env_steps=env_steps,
            errors=errors,
            wall_time=time.monotonic() - started,
            rollout_time=rollout,
            results=tuple(results),
        )
