"""Score a batch of policy weights on a gymnasium environment: ``python -m nmrunners.gym_run JOB``.

The job names the environment, the target's policy class (``module:Class``,
imported from the target's tree at the payload's ``src``) with its constructor
arguments, and a batch of genomes whose weights lie in a binary file beside the
job file (little-endian float32). Each genome is either a flat vector, assigned
in the order of the module's ``parameters()``, or named tensors loaded with a
strict ``load_state_dict``. Every genome plays one episode per seed; all those
episodes run in lockstep so that one batched forward pass (``torch.func.vmap``
over genomes of the same architecture) serves every environment at each step.

The result document has returns and episode lengths per genome and per seed,
and one error message per genome that could not be built or run, so one broken
genome fails alone. ``op = "describe"`` instead reports the spaces and the
parameter layout of the policy, for the host to check a target against.

Like every runner this imports only the standard library at module level;
torch and gymnasium come from the sandbox's mounted environment, inside
functions. It never imports ``policies``: the host passes plain weights.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

RESULT_VERSION = 1


class RunnerError(Exception):
    """The whole batch cannot run (bad payload, unknown environment, unimportable policy)."""


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

    out = outputs.detach().cpu().numpy()
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


class _Forward:
    """One batched forward pass for policies of the same architecture, by vmap when it works."""

    def __init__(self, policies: Sequence[Any]) -> None:
        self.policies = list(policies)
        self.batched: Any = None
        if len(self.policies) > 1:
            import copy

            from torch.func import functional_call, stack_module_state, vmap

            params, buffers = stack_module_state(self.policies)
            base = copy.deepcopy(self.policies[0]).to("meta")

            def one(p: Any, b: Any, x: Any) -> Any:
                return functional_call(base, (p, b), (x,))

            run = vmap(one)
            self.batched = lambda obs: run(params, buffers, obs)

    def __call__(self, obs: Any) -> Any:
        """Outputs of shape [genomes, envs, ...] for observations [genomes, envs, ...]."""
        import torch

        with torch.no_grad():
            if self.batched is not None:
                try:
                    return self.batched(obs)
                except Exception:  # an op vmap cannot batch: fall back to a loop, same numbers
                    self.batched = None
            return torch.stack([p(obs[i]) for i, p in enumerate(self.policies)])


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


def rollout(
    env_id: str,
    policies: Sequence[Any],
    seeds: Sequence[int],
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Play one episode per (policy, seed), all in lockstep; deterministic given the seeds.

    Returns ``{"returns": [[...] per seed] per policy, "lengths": same, "errors": {index:
    message}, "env_steps": total}``. A policy whose forward pass fails gets an error and
    no returns; the others go on.
    """
    import numpy as np
    import torch

    n_pol, n_seeds = len(policies), len(seeds)
    envs = [[make_env(env_id, env_kwargs) for _ in seeds] for _ in policies]
    space = envs[0][0].action_space if envs else None
    obs_shape = envs[0][0].observation_space.shape if envs else ()
    obs = np.zeros((n_pol, n_seeds, *obs_shape), dtype=np.float32)
    for i in range(n_pol):
        for j, seed in enumerate(seeds):
            obs[i, j] = envs[i][j].reset(seed=int(seed))[0]
    returns = np.zeros((n_pol, n_seeds), dtype=np.float64)
    lengths = np.zeros((n_pol, n_seeds), dtype=np.int64)
    live = np.ones((n_pol, n_seeds), dtype=bool)
    errors: dict[int, str] = {}
    groups: dict[Any, list[int]] = {}
    for i, policy in enumerate(policies):
        groups.setdefault(_architecture(policy), []).append(i)
    forwards = [(idx, _Forward([policies[i] for i in idx])) for idx in groups.values()]
    while live.any():
        actions: dict[int, Any] = {}
        for idx, forward in forwards:
            active = [i for i in idx if live[i].any()]
            if not active:
                continue
            try:
                out = forward(torch.from_numpy(obs[idx]))
                for k, i in enumerate(idx):
                    if live[i].any():
                        actions[i] = _to_actions(out[k], space)
            except Exception as exc:
                for i in active:
                    errors[i] = f"forward pass failed: {exc!r}"
                    live[i] = False
        for i, acts in actions.items():
            acts = acts.tolist()  # plain numbers: the env's own checks are faster on them
            for j in np.flatnonzero(live[i]):
                o, r, terminated, truncated, _ = envs[i][j].step(acts[j])
                obs[i, j] = o
                returns[i, j] += float(r)
                lengths[i, j] += 1
                if terminated or truncated or (max_steps and lengths[i, j] >= max_steps):
                    live[i, j] = False
    for row in envs:
        for env in row:
            env.close()
    return {
        "returns": [None if i in errors else returns[i].tolist() for i in range(n_pol)],
        "lengths": [None if i in errors else lengths[i].tolist() for i in range(n_pol)],
        "errors": errors,
        "env_steps": int(lengths.sum()),
    }


def _weights(entry: Mapping[str, Any], blob: Any) -> Any:
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


def evaluate(payload: Mapping[str, Any], job_dir: Path) -> dict[str, Any]:
    """Build every genome of the payload and play its episodes; the result document."""
    import numpy as np
    import torch

    torch.set_num_threads(int(payload.get("threads", 1)))
    env = payload["env"]
    policy = payload["policy"]
    cls = load_class(policy["entry"], payload.get("src"))
    blob = np.zeros(0, dtype="<f4")
    if payload.get("weights"):
        blob = np.fromfile(job_dir / payload["weights"], dtype="<f4")
    started = time.monotonic()
    built, ids, errors = [], [], {}
    for entry in payload["genomes"]:
        kwargs = {**policy.get("kwargs", {}), **entry.get("kwargs", {})}
        try:
            built.append(build_policy(cls, kwargs, _weights(entry, blob)))
            ids.append(entry["id"])
        except Exception as exc:
            errors[entry["id"]] = f"cannot build the policy: {exc!r}"
    setup = time.monotonic() - started
    done = rollout(
        env["id"],
        built,
        payload["seeds"],
        env_kwargs=env.get("kwargs"),
        max_steps=env.get("max_steps"),
    )
    for index, message in done["errors"].items():
        errors[ids[index]] = message
    return {
        "v": RESULT_VERSION,
        "op": "evaluate",
        "seeds": list(payload["seeds"]),
        "returns": {g: r for g, r in zip(ids, done["returns"], strict=True) if r is not None},
        "lengths": {g: n for g, n in zip(ids, done["lengths"], strict=True) if n is not None},
        "errors": errors,
        "env_steps": done["env_steps"],
        "setup_seconds": round(setup, 4),
        "rollout_seconds": round(time.monotonic() - started - setup, 4),
    }


def describe(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The environment's spaces and the policy's parameter layout."""
    env = make_env(payload["env"]["id"], payload["env"].get("kwargs"))
    cls = load_class(payload["policy"]["entry"], payload.get("src"))
    policy = build_policy(cls, payload["policy"].get("kwargs", {}))
    doc = {
        "v": RESULT_VERSION,
        "op": "describe",
        "observation_space": space_info(env.observation_space),
        "action_space": space_info(env.action_space),
        "parameters": [[n, list(p.shape)] for n, p in policy.named_parameters()],
        "state": [[n, list(t.shape)] for n, t in policy.state_dict().items()],
        "size": sum(p.numel() for p in policy.parameters()),
    }
    env.close()
    return doc


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 when the batch ran (errors of genomes are in the result), 2 if not."""
    args = sys.argv[1:] if argv is None else argv
    job_path = Path(args[0])
    job = json.loads(job_path.read_text())
    payload = job["payload"]
    try:
        if payload.get("op", "evaluate") == "describe":
            doc, status = describe(payload), 0
        else:
            doc, status = evaluate(payload, job_path.parent), 0
    except RunnerError as exc:
        doc, status = {"v": RESULT_VERSION, "error": str(exc)}, 2
    except Exception as exc:
        doc, status = {"v": RESULT_VERSION, "error": f"the runner failed: {exc!r}"}, 2
    tmp = job["result_path"] + ".part"
    Path(tmp).write_text(json.dumps(doc))
    os.replace(tmp, job["result_path"])
    return status


if __name__ == "__main__":
    sys.exit(main())
