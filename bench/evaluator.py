"""Evaluator throughput: env steps per second in the sandbox against one process.

A population of policies (random, or perturbations of a weights file) plays
one episode per genome and seed, generation after generation, on the same
seeds everywhere:

- in-process: `sandbox.runners.gym_run.Player` in this process, one core, no
  sandbox (the reference: what one worker can do at best);
- sandbox: a `sandbox.gym_pool.GymPool` of long-lived Docker sandboxes, as a
  weights cycle uses them (`--workers`), timed after start-up, which is shown
  apart.

Both count the same environment steps (the returns are checked equal), so the
ratio is a ratio of throughputs.

    .venv/bin/python bench/evaluator.py                       # LunarLander-v3, 1 and 2 workers
    .venv/bin/python bench/evaluator.py --env cartpole --json out.json
    .venv/bin/python bench/evaluator.py --weights STATE/bots/lander/weights/policy.safetensors
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in the sandbox

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.gym_eval import GymTask, NamedWeights, pack  # noqa: E402
from sandbox.runners import gym_run  # noqa: E402

ENVS = {
    "lander": ("LunarLander-v3", ROOT / "targets/examples/lander", {"obs_dim": 8, "act_dim": 4}),
    "cartpole": ("CartPole-v1", ROOT / "targets/examples/cartpole", {"obs_dim": 4, "act_dim": 2}),
}


class Flat:
    def __init__(self, policy: np.ndarray, kwargs: dict) -> None:
        self.policy = policy.astype(np.float32)
        self.policy_kwargs = kwargs


def population(args: argparse.Namespace, size: int, kwargs: dict) -> list:
    """Genomes: random (short episodes: crashes) or perturbations of `--weights`."""
    rng = np.random.default_rng(args.seed)
    if not args.weights:
        return [Flat(rng.normal(0, 0.5, size), kwargs) for _ in range(args.genomes)]
    from policies.neuro.weights import load_weights

    committed = load_weights(Path(args.weights))
    kwargs = {**kwargs, **dict(committed.policy_kwargs or {})}
    out = []
    for _ in range(args.genomes):
        noisy = {k: v + rng.normal(0, args.noise, v.shape) for k, v in committed.tensors.items()}
        out.append(NamedWeights(noisy, kwargs))
    return out


def in_process(task: GymTask, tree: Path, genomes: list, seeds: list[list[int]]) -> dict:
    payload = {
        "src": str(tree),
        "env": {"id": task.env_id, "kwargs": {}, "max_steps": None},
        "policy": {"entry": task.network, "kwargs": dict(task.network_kwargs)},
    }
    player = gym_run.Player(payload)
    blob, entries = pack(genomes)
    weights = np.frombuffer(blob, dtype="<f4")
    steps, returns, started = 0, [], time.perf_counter()
    for generation in seeds:
        doc = player.evaluate(entries, generation, weights)
        steps += doc["env_steps"]
        returns.append([doc["returns"][str(i)] for i in range(len(genomes))])
    seconds = time.perf_counter() - started
    return {"env_steps": steps, "seconds": seconds, "returns": returns}


def sandboxed(task: GymTask, tree: Path, genomes: list, seeds: list[list[int]], workers: int):
    from sandbox.docker_backend import DockerBackend
    from sandbox.gym_pool import GymPool

    state = Path(tempfile.mkdtemp(prefix="nm-bench-evaluator-"))
    backend = DockerBackend(state)
    started = time.perf_counter()
    with GymPool(backend, tree, task, port_root=state / "jobs", workers=workers) as pool:
        for k in range(workers):  # start-up: every sandbox ready
            pool._ask(k, {"op": "describe"}, b"")
        ready = time.perf_counter() - started
        steps, returns, begun = 0, [], time.perf_counter()
        for generation in seeds:
            done = pool(genomes, generation)
            assert not done.errors, done.errors
            steps += done.env_steps
            returns.append(done.returns.tolist())
        seconds = time.perf_counter() - begun
    return {"env_steps": steps, "seconds": seconds, "startup": ready, "returns": returns}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", choices=sorted(ENVS), default="lander")
    parser.add_argument("--genomes", type=int, default=64, help="population size")
    parser.add_argument("--episodes", type=int, default=3, help="seeds per genome")
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--hidden", default="32,32", help="hidden widths, comma-separated")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--weights", default="", help="a weights file: perturb it, not random")
    parser.add_argument("--noise", type=float, default=0.05, help="perturbation sigma")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default="", help="write the results to this file")
    args = parser.parse_args(argv)

    env_id, tree, kwargs = ENVS[args.env]
    kwargs = {**kwargs, "hidden": [int(h) for h in args.hidden.split(",") if h]}
    task = GymTask(env_id, "policy:Policy", kwargs)
    size = sum(
        a * b + b
        for a, b in zip(
            [kwargs["obs_dim"], *kwargs["hidden"]],
            [*kwargs["hidden"], kwargs["act_dim"]],
            strict=True,
        )
    )
    genomes = population(args, size, kwargs)
    seeds = [[1000 * g + e for e in range(args.episodes)] for g in range(args.generations)]

    rows = []
    local = in_process(task, tree, genomes, seeds)
    reference = local["env_steps"] / local["seconds"]
    rows.append({"mode": "in-process", "workers": 1, "steps_per_s": reference, **local})
    print(
        f"in-process, 1 worker: {local['env_steps']:,} env steps in {local['seconds']:.2f} s "
        f"= {reference:,.0f} steps/s"
    )
    for workers in args.workers:
        run = sandboxed(task, tree, genomes, seeds, workers)
        rate = run["env_steps"] / run["seconds"]
        same = np.allclose(np.array(run["returns"]), np.array(local["returns"]))
        rows.append(
            {"mode": "sandbox", "workers": workers, "steps_per_s": rate, "same": same, **run}
        )
        print(
            f"sandbox, {workers} worker(s): {run['env_steps']:,} env steps in "
            f"{run['seconds']:.2f} s = {rate:,.0f} steps/s ({rate / reference:.2f}x in-process; "
            f"start-up {run['startup']:.1f} s; same returns: {same})"
        )
    if args.json:
        meta = {"argv": sys.argv, "machine": platform.node(), "cpus": os.cpu_count()}
        for row in rows:
            row.pop("returns")
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
