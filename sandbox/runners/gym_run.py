"""Score populations of policy weights on a gymnasium environment (used by `gym_serve`).

A `Player` loads the target's policy class (``module:Class``, imported from the
target's tree) and its environment once, then plays population after
population. A population's weights come as one little-endian float32 blob;
each genome is either a flat vector, assigned in the order of the module's
``parameters()``, or named tensors loaded with a strict ``load_state_dict``.
Every genome plays one episode per seed; all those episodes run in lockstep so
that one batched forward pass (`batched`: numpy over stacked weights for plain
MLPs, ``torch.func.vmap`` otherwise) serves every environment at each step.

The result document has returns and episode lengths per genome and per seed,
and one error message per genome that could not be built or run, so one broken
genome fails alone. `Player.describe` reports the spaces and the parameter
layout of the policy, for the host to check a target against.

Like every runner this imports only the standard library at module level;
torch and gymnasium come from the sandbox's mounted environment, inside
functions. It never imports ``policies``: the host passes plain weights.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .batched import batched_forward

RESULT_VERSION = 1


class RunnerError(Exception):
    """Nothing can be played (bad payload, unknown environment, unimportable policy)."""


def load_class(entry: str, src: str | None = None) -> Any:
    """The class named ``module:Class``, imported with `src` first on the path."""
    module_name, sep, attr = entry.partition(":")
    if not sep or not module_name or not attr:
        raise RunnerError(f"policy {entry!r}: expected 'module:Class', e.g. 'policy:Policy'")
    if src and src not in sys.path:
        sys.path.insert(0, src)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise RunnerError(f"policy {entry!r}: cannot import {module_name}: {exc!r}") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise RunnerError(f"policy {entry!r}: {module_name} has no {attr}") from None


def build_policy(cls: Any, kwargs: Mapping[str, Any], weights: Any = None) -> Any:
    """An instance of `cls` in eval mode, with `weights` (a flat tensor or a state dict) loaded."""
    import torch

    policy = cls(**kwargs)
    if not isinstance(policy, torch.nn.Module):
        raise TypeError(f"{cls.__name__}(...) is a {type(policy).__name__}, not a torch.nn.Module")
    if isinstance(weights, torch.Tensor):
        params = list(policy.parameters())
        expected = sum(p.numel() for p in params)
        if weights.numel() != expected:
            raise ValueError(
                f"{weights.numel()} weights given; {cls.__name__}(**{dict(kwargs)}) has "
                f"{expected} parameters"
            )
        if params:
            torch.nn.utils.vector_to_parameters(weights.to(params[0].dtype), params)
    elif weights is not None:
        policy.load_state_dict(weights, strict=True)
    policy.eval()
    return policy


def space_info(space: Any) -> dict[str, Any]:
    """A gymnasium space as plain data; only the kinds a policy can act on here."""
    import gymnasium as gym

    if isinstance(space, gym.spaces.Discrete):
        return {"kind": "discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.Box):
        return {
            "kind": "box",
            "shape": list(space.shape),
            "low": space.low.astype(float).ravel().tolist(),
            "high": space.high.astype(float).ravel().tolist(),
        }
    return {"kind": type(space).__name__}


def _to_actions(outputs: Any, space: Any) -> Any:
    """Turn a batch of policy outputs into actions: argmax for Discrete, clipped for Box."""
    import gymnasium as gym
    import numpy as np

    out = np.asarray(outputs)
    if isinstance(space, gym.spaces.Discrete):
        if out.shape[-1:] != (space.n,):
            raise ValueError(
                f"the policy returned outputs of shape {tuple(out.shape)}; a Discrete({space.n}) "
                f"action space needs {space.n} outputs per observation (their argmax is the action)"
            )
        return out.argmax(axis=-1) + int(space.start)
    if isinstance(space, gym.spaces.Box):
        if out.shape[-len(space.shape) :] != space.shape:
            raise ValueError(
                f"the policy returned outputs of shape {tuple(out.shape)}; the Box action space "
                f"needs {space.shape} per observation"
            )
        return np.clip(out, space.low, space.high).astype(space.dtype)
    raise ValueError(f"action space {space}: only Discrete and Box are supported")


def _architecture(policy: Any) -> tuple[Any, ...]:
    named = tuple((n, tuple(t.shape), str(t.dtype)) for n, t in policy.state_dict().items())
    return (type(policy), named)


def make_env(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> Any:
    """One environment, without the passive checker (it only slows stepping)."""
    import gymnasium as gym

    try:
        return gym.make(env_id, disable_env_checker=True, **dict(env_kwargs or {}))
    except Exception as exc:
        raise RunnerError(f"environment {env_id!r}: cannot make it: {exc!r}") from exc


class EnvStock:
    """Environments of one kind, made on first need and kept for the next rollout.

    Where gymnasium wraps an environment only in its time limit and its
    reset-before-step check, the stock keeps the bare environment and `limit`
    says where episodes are cut: every rollout resets before stepping and cuts at
    the limit itself, so the episodes are the same, without two layers of calls
    per step.
    """

    BARE = frozenset({"TimeLimit", "OrderEnforcing"})

    def __init__(self, env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> None:
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.envs: list[Any] = []
        self.limit: int | None = None
        """The environment's own episode limit, when the stock enforces it."""

    def take(self, count: int) -> list[Any]:
        """`count` environments, to be reset before use."""
        while len(self.envs) < count:
            self.envs.append(self._bare(make_env(self.env_id, self.env_kwargs)))
        return self.envs[:count]

    def _bare(self, env: Any) -> Any:
        layers, inner = [], env
        while hasattr(inner, "env") and inner is not inner.unwrapped:
            layers.append(type(inner).__name__)
            inner = inner.env
        if not set(layers) <= self.BARE:
            return env
        self.limit = env.spec.max_episode_steps if "TimeLimit" in layers else None
        return inner

    @property
    def example(self) -> Any:
        """One environment, for its spaces."""
        return self.take(1)[0]


def rollout(
    env_id: str,
    policies: Sequence[Any],
    seeds: Sequence[int],
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    max_steps: int | None = None,
    stock: EnvStock | None = None,
) -> dict[str, Any]:
    """Play one episode per (policy, seed), all in lockstep; deterministic given the seeds.

    Returns ``{"returns": [[...] per seed] per policy, "lengths": same, "errors": {index:
    message}, "env_steps": total}``. A policy whose forward pass fails gets an error and
    no returns; the others go on. Environments come from `stock` when given (a
    long-lived runner keeps them between calls: every episode starts with a seeded reset).
    """
    n_pol, n_seeds = len(policies), len(seeds)
    stock = stock or EnvStock(env_id, env_kwargs)
    flat = stock.take(n_pol * n_seeds)
    envs = [flat[i * n_seeds : (i + 1) * n_seeds] for i in range(n_pol)]
    space = envs[0][0].action_space if envs else None
    obs = _reset(envs, seeds)
    limit = min((x for x in (max_steps, stock.limit) if x), default=None)
    returns = [[0.0] * n_seeds for _ in range(n_pol)]
    lengths = [[0] * n_seeds for _ in range(n_pol)]
    running = [list(range(n_seeds)) for _ in range(n_pol)]
    """Per policy, the environments whose episode goes on."""
    errors: dict[int, str] = {}
    groups: dict[Any, list[int]] = {}
    for i, policy in enumerate(policies):
        groups.setdefault(_architecture(policy), []).append(i)
    forwards = [(idx, batched_forward([policies[i] for i in idx])) for idx in groups.values()]
    while any(running):
        for idx, forward in forwards:
            active = [i for i in idx if running[i]]
            if not active:
                continue
            try:
                actions = _to_actions(forward(obs[idx]), space)
            except Exception as exc:
                for i in active:
                    errors[i] = f"forward pass failed: {exc!r}"
                    running[i] = []
                continue
            # Plain numbers for discrete actions: the env's own checks are faster on them.
            actions = actions.tolist() if actions.ndim == 2 else actions
            for k, i in enumerate(idx):
                running[i] = _step(
                    envs[i], actions[k], running[i], obs[i], returns[i], lengths[i], limit
                )
    return {
        "returns": [None if i in errors else returns[i] for i in range(n_pol)],
        "lengths": [None if i in errors else lengths[i] for i in range(n_pol)],
        "errors": errors,
        "env_steps": sum(map(sum, lengths)),
    }


def _reset(envs: list[list[Any]], seeds: Sequence[int]) -> Any:
    """Reset environment [i][j] with seed j; the first observations, [policies, seeds, ...]."""
    import numpy as np

    shape = envs[0][0].observation_space.shape if envs else ()
    obs = np.zeros((len(envs), len(seeds), *shape), dtype=np.float32)
    for i, row in enumerate(envs):
        for j, seed in enumerate(seeds):
            obs[i, j] = row[j].reset(seed=int(seed))[0]
    return obs


def _step(
    envs: list[Any],
    actions: Any,
    running: list[int],
    obs: Any,
    returns: list[float],
    lengths: list[int],
    limit: int | None,
) -> list[int]:
    """Step one policy's running environments once; those whose episode goes on."""
    still = []
    for j in running:
        o, r, terminated, truncated, _ = envs[j].step(actions[j])
        obs[j] = o
        returns[j] += float(r)
        lengths[j] += 1
        if not (terminated or truncated or (limit and lengths[j] >= limit)):
            still.append(j)
    return still


def weights_of(entry: Mapping[str, Any], blob: Any) -> Any:
    """A genome's weights from the population's float32 blob: a flat tensor or a state dict."""
    import numpy as np
    import torch

    def take(offset: int, count: int) -> Any:
        if offset < 0 or count < 0 or offset + count > blob.size:
            raise ValueError(f"weights at [{offset}, {offset + count}) lie outside the file")
        return torch.from_numpy(np.array(blob[offset : offset + count], dtype=np.float32))

    if "flat" in entry:
        offset, count = entry["flat"]
        return take(int(offset), int(count))
    if "tensors" in entry:
        tensors = {}
        for name, (offset, shape) in entry["tensors"].items():
            count = int(np.prod(shape, dtype=np.int64))
            tensors[name] = take(int(offset), count).reshape(shape)
        return tensors
    return None


class Player:
    """One target's policy class and environment, loaded once, playing population after population.

    `payload` holds ``src`` (the tree), ``env`` (``id``, ``kwargs``, ``max_steps``) and
    ``policy`` (``entry``, ``kwargs``). Loading imports torch, gymnasium and the policy's
    module, and makes one environment, so that the first request pays no start-up.
    """

    def __init__(self, payload: Mapping[str, Any]) -> None:
        import torch

        torch.set_num_threads(int(payload.get("threads", 1)))
        self.env = dict(payload["env"])
        self.policy = dict(payload["policy"])
        self.cls = load_class(self.policy["entry"], payload.get("src"))
        self.stock = EnvStock(self.env["id"], self.env.get("kwargs"))
        self.stock.take(1)  # the first environment: its module's imports happen now

    def evaluate(
        self, genomes: Sequence[Mapping[str, Any]], seeds: Sequence[int], blob: Any
    ) -> dict[str, Any]:
        """Build every genome and play one episode per genome and seed; the result document."""
        started = time.monotonic()
        built, ids, errors = [], [], {}
        for entry in genomes:
            kwargs = {**self.policy.get("kwargs", {}), **entry.get("kwargs", {})}
            try:
                built.append(build_policy(self.cls, kwargs, weights_of(entry, blob)))
                ids.append(entry["id"])
            except Exception as exc:
                errors[entry["id"]] = f"cannot build the policy: {exc!r}"
        setup = time.monotonic() - started
        done = rollout(
            self.env["id"],
            built,
            seeds,
            env_kwargs=self.env.get("kwargs"),
            max_steps=self.env.get("max_steps"),
            stock=self.stock,
        )
        for index, message in done["errors"].items():
            errors[ids[index]] = message
        return {
            "v": RESULT_VERSION,
            "op": "evaluate",
            "seeds": list(seeds),
            "returns": {g: r for g, r in zip(ids, done["returns"], strict=True) if r is not None},
            "lengths": {g: n for g, n in zip(ids, done["lengths"], strict=True) if n is not None},
            "errors": errors,
            "env_steps": done["env_steps"],
            "setup_seconds": round(setup, 4),
            "rollout_seconds": round(time.monotonic() - started - setup, 4),
        }

    def describe(self, kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The environment's spaces and the policy's parameter layout (with `kwargs` if given)."""
        env = self.stock.example
        policy = build_policy(self.cls, {**self.policy.get("kwargs", {}), **dict(kwargs or {})})
        return {
            "v": RESULT_VERSION,
            "op": "describe",
            "observation_space": space_info(env.observation_space),
            "action_space": space_info(env.action_space),
            "parameters": [[n, list(p.shape)] for n, p in policy.named_parameters()],
            "state": [[n, list(t.shape)] for n, t in policy.state_dict().items()],
            "size": sum(p.numel() for p in policy.parameters()),
        }
