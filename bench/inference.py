"""Time the gym runner's batched forward pass: vmap (gym_run's _Forward), numpy, a loop.

G lander policies (8 -> 32 -> 32 -> 4, tanh) each see E observations per call,
as in one lockstep step of ``gym_run.rollout`` with E seeds ("vmap" is _Forward
as it is, which for G = 1 calls the policy directly). Each path takes
numpy observations and gives numpy outputs (the runner converts both ways), and
the figure is the median over repeats of the mean microseconds per call, also
divided by G * E to compare with one ``env.step``. Threads are pinned to one, as
the runner pins them. ``--rollout`` also plays LunarLander episodes through
``gym_run.rollout`` with each forward and checks that the returns agree.

    python bench/inference.py                          # G in 1 16 32 64, E = 3
    python bench/inference.py --groups 32 --rollout 32 --json inference.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ["OMP_NUM_THREADS"] = "1"  # before numpy and torch load, as the runner sets it

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.runners import gym_run  # noqa: E402
from sandbox.runners.batched import batched_forward  # noqa: E402

LANDER = ROOT / "targets" / "examples" / "lander"
KWARGS = {"obs_dim": 8, "act_dim": 4, "hidden": [32, 32]}
PATHS = ("vmap", "numpy", "loop")


def population(count: int, seed: int = 0) -> list[Any]:
    """Lander policies with random weights, built as the runner builds them."""
    cls = gym_run.load_class("policy:Policy", str(LANDER))
    size = sum(p.numel() for p in cls(**KWARGS).parameters())
    rng = np.random.default_rng(seed)
    return [
        gym_run.build_policy(cls, KWARGS, torch.from_numpy(rng.normal(size=size).astype("f4")))
        for _ in range(count)
    ]


def forward_for(path: str, policies: list[Any]) -> Callable[[np.ndarray], np.ndarray]:
    """numpy in, numpy out, by each path; vmap and loop are gym_run's own _Forward."""
    if path == "numpy":
        forward = batched_forward(policies)
        assert forward.kind == "numpy", forward.kind
        return forward
    current = gym_run._Forward(policies)
    if path == "loop":
        current.batched = None  # what _Forward does when vmap fails
    return lambda obs: current(torch.from_numpy(obs)).detach().numpy()


def time_calls(run: Callable[[], Any], calls: int, repeats: int) -> float:
    """Median over repeats of the mean microseconds per call, after a warm-up."""
    for _ in range(min(calls, 50)):
        run()
    means = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            run()
        means.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(means)


def bench_forward(groups: int, envs: int, calls: int, repeats: int) -> list[dict[str, Any]]:
    policies = population(groups)
    obs = (np.random.default_rng(1).standard_normal((groups, envs, 8)) * 2).astype(np.float32)
    rows = []
    for path in PATHS:
        forward = forward_for(path, policies)
        us = time_calls(lambda f=forward: f(obs), calls, repeats)
        rows.append(
            {"G": groups, "E": envs, "path": path, "us_call": us, "us_env_step": us / groups / envs}
        )
    return rows


def bench_env_step(steps: int) -> float:
    """Median microseconds of one LunarLander-v3 step with random actions."""
    env = gym_run.make_env("LunarLander-v3")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    times = []
    for action in rng.integers(0, 4, size=steps).tolist():
        started = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(action)
        times.append((time.perf_counter() - started) * 1e6)
        if terminated or truncated:
            env.reset()
    env.close()
    return statistics.median(times)


class _Adapter:
    """A batched forward in _Forward's place: torch in, torch out, as rollout calls it."""

    def __init__(self, policies: list[Any]) -> None:
        self.forward = batched_forward(policies)

    def __call__(self, obs: Any) -> Any:
        return torch.from_numpy(self.forward(obs.numpy()))


def bench_rollout(groups: int, seeds: list[int], max_steps: int, repeats: int) -> dict[str, Any]:
    """Median seconds of gym_run.rollout with its _Forward and with the numpy forward instead."""
    policies = population(groups)
    original, times, returns = gym_run._Forward, {"vmap": [], "numpy": []}, {}
    for _ in range(repeats):  # alternate, so that load on the machine hits both alike
        for path, cls in (("vmap", original), ("numpy", _Adapter)):
            gym_run._Forward = cls
            try:
                started = time.perf_counter()
                done = gym_run.rollout("LunarLander-v3", policies, seeds, max_steps=max_steps)
                times[path].append(time.perf_counter() - started)
            finally:
                gym_run._Forward = original
            returns[path] = done["returns"]
            steps = done["env_steps"]
    figures = {path: statistics.median(t) for path, t in times.items()}
    same = returns["vmap"] == returns["numpy"]
    return {"G": groups, "seeds": seeds, "env_steps": steps, "seconds": figures, "same": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[1, 16, 32, 64])
    parser.add_argument("--envs", type=int, default=3, help="observations per policy per call")
    parser.add_argument("--calls", type=int, default=500, help="calls per timed repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--env-steps", type=int, default=3000, help="LunarLander steps to time")
    parser.add_argument(
        "--rollout", type=int, default=0, metavar="G", help="also time rollout with G policies"
    )
    parser.add_argument("--max-steps", type=int, default=1000, help="episode cap of --rollout")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = [
        row
        for groups in args.groups
        for row in bench_forward(groups, args.envs, args.calls, args.repeats)
    ]
    print(f"{'G':>4} {'E':>3} {'path':>6} {'us/call':>10} {'us/env-step':>12}")
    for row in rows:
        print(
            f"{row['G']:>4} {row['E']:>3} {row['path']:>6} "
            f"{row['us_call']:>10.1f} {row['us_env_step']:>12.2f}"
        )
    doc: dict[str, Any] = {"forward": rows, "threads": torch.get_num_threads()}
    if args.env_steps:
        doc["env_step_us"] = bench_env_step(args.env_steps)
        print(f"LunarLander-v3 env.step: {doc['env_step_us']:.1f} us (median)")
    if args.rollout:
        seeds = list(range(args.envs))
        doc["rollout"] = bench_rollout(args.rollout, seeds, args.max_steps, args.repeats)
        r = doc["rollout"]
        print(
            f"rollout G={r['G']} x {len(r['seeds'])} seeds, {r['env_steps']} env steps: "
            f"vmap {r['seconds']['vmap']:.2f} s, numpy {r['seconds']['numpy']:.2f} s, "
            f"same returns: {r['same']}"
        )
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
