"""Evaluation on a Ray cluster against this machine's own sandboxes: what Ray costs.

Two workloads, each measured after a warm-up (images checked, workers started):

- code: candidates per minute, `--candidates` runs of the alpha example's
  test suite, in batches of `--batch` (one container each), `--parallel` batches
  at once, as a code cycle evaluates them;
- gym: environment steps per second of a `GymPool` of `--parallel` long-lived
  sandboxes on LunarLander-v3 (`--genomes` genomes, `--episodes` seeds,
  `--generations` generations), as a weights cycle uses it.

Three placements: this machine's Docker backend (local), a Ray cluster of one
node with all the CPUs, and one of two nodes sharing them; the clusters are
loopback clusters in a network namespace of their own (`daemon.cluster.loopback`),
started and stopped by this script. On one machine the two-node cluster has no
more cores than the one-node one: it shows the cost of spreading, not a speed-up.

    .venv/bin/python bench/cluster.py                  # all three, default sizes
    .venv/bin/python bench/cluster.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ALPHA = ROOT / "targets" / "examples" / "alpha"
LANDER = ROOT / "targets" / "examples" / "lander"


def code_rate(backend: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Candidates per minute: the alpha suite once per candidate, batches side by side."""
    from sandbox.evaluate import Candidate, run_batch
    from sandbox.job import Limits

    limits = Limits(timeout=30.0)
    for k in range(args.parallel):  # warm-up: every worker has its image and tree
        run_batch(backend, ALPHA, [Candidate(f"warm-{k}")], ["tests"], limits=limits)
    batches = [
        [Candidate(f"c{b}-{i}") for i in range(args.batch)]
        for b in range(args.candidates // args.batch)
    ]
    started = time.perf_counter()
    with ThreadPoolExecutor(args.parallel) as pool:
        runs = [
            r
            for rs in pool.map(
                lambda b: run_batch(backend, ALPHA, b, ["tests"], limits=limits), batches
            )
            for r in rs
        ]
    seconds = time.perf_counter() - started
    assert all(r.valid for r in runs), [r.reason for r in runs if not r.valid][:3]
    return {"candidates": len(runs), "seconds": seconds, "per_minute": 60 * len(runs) / seconds}


def gym_rate(backend: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Env steps per second of a pool of long-lived sandboxes, after their start-up."""
    import numpy as np

    from sandbox.gym_eval import GymTask
    from sandbox.gym_pool import GymPool

    kwargs = {"obs_dim": 8, "act_dim": 4, "hidden": [8]}
    task = GymTask("LunarLander-v3", "policy:Policy", kwargs)
    rng = np.random.default_rng(0)
    size = 8 * 8 + 8 + 8 * 4 + 4

    class Flat:
        def __init__(self) -> None:
            self.policy = rng.normal(0, 0.5, size).astype(np.float32)
            self.policy_kwargs = kwargs

    genomes = [Flat() for _ in range(args.genomes)]
    ports = Path(tempfile.mkdtemp(prefix="nm-bench-cluster-"))
    with GymPool(backend, LANDER, task, port_root=ports, workers=args.parallel) as pool:
        started = time.perf_counter()
        pool(genomes[: args.parallel], list(range(args.parallel)))  # start-up
        ready = time.perf_counter() - started
        steps, begun = 0, time.perf_counter()
        for generation in range(args.generations):
            seeds = [1000 * generation + e for e in range(args.episodes)]
            done = pool(genomes, seeds)
            assert not done.errors, done.errors
            steps += done.env_steps
        seconds = time.perf_counter() - begun
    return {
        "env_steps": steps,
        "seconds": seconds,
        "startup": ready,
        "steps_per_s": steps / seconds,
    }


def measure(backend: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Both workloads on one backend."""
    return {"code": code_rate(backend, args), "gym": gym_rate(backend, args)}


def local(args: argparse.Namespace) -> dict[str, Any]:
    from sandbox.docker_backend import DockerBackend

    return measure(DockerBackend(Path(tempfile.mkdtemp(prefix="nm-bench-cluster-"))), args)


def on_cluster(nodes: int, args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """Start a loopback cluster sharing the cores among `nodes`, and measure from inside it."""
    from daemon.cluster.loopback import LoopbackCluster

    cpus = max(1, (os.cpu_count() or 2) // nodes)
    root = Path(tempfile.mkdtemp(prefix="nm-bench-cluster-"))
    root.chmod(0o755)
    with LoopbackCluster(root, nodes=nodes, cpus=cpus) as cluster:
        inner = [sys.executable, str(Path(__file__).resolve()), *argv, "--inside", cluster.address]
        done = cluster.command(inner, cwd=ROOT, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise SystemExit(f"the measurement inside the cluster failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def inside(address: str, args: argparse.Namespace) -> int:
    """The measurement, run inside the cluster's namespace: prints one JSON line."""
    from daemon.cluster.connect import cluster_backend
    from daemon.cluster.settings import ClusterSettings

    print(json.dumps(measure(cluster_backend(ClusterSettings(address)), args)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=400)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--parallel", type=int, default=2, help="sandboxes at once")
    parser.add_argument("--genomes", type=int, default=32)
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--json", default="", help="write the results to this file")
    parser.add_argument("--inside", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inside:
        return inside(args.inside, args)
    sizes = ("candidates", "batch", "parallel", "genomes", "episodes", "generations")
    passed = [x for name in sizes for x in (f"--{name}", str(getattr(args, name)))]
    rows = {"local": local(args)}
    rows["ray, 1 node"] = on_cluster(1, args, passed)
    rows["ray, 2 nodes"] = on_cluster(2, args, passed)
    base = rows["local"]
    for name, row in rows.items():
        code, gym = row["code"], row["gym"]
        print(
            f"{name:>13}: {code['per_minute']:7,.0f} candidates/min "
            f"({base['code']['per_minute'] / code['per_minute']:.2f}x slower than local), "
            f"{gym['steps_per_s']:8,.0f} env steps/s "
            f"({base['gym']['steps_per_s'] / gym['steps_per_s']:.2f}x), "
            f"gym start-up {gym['startup']:.1f} s"
        )
    if args.json:
        meta = {"argv": sys.argv, "machine": platform.node(), "cpus": os.cpu_count()}
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
