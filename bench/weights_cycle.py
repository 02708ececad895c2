"""Weights cycles of an example target from a fresh state, one per evolution seed.

For each seed: the target's own file with ``[evolution] seed`` set, a fresh
state directory, ``nmctl cycle TARGET --local --json`` timed from the outside
(wall time of the whole command: Docker sandboxes, git, verification), then
the committed weights scored on 100 episodes of seeds no cycle uses. For
CartPole the same run reports the reference the issue compares with: plain
CMA-ES in this process (no sandbox, no daemon) with the target's settings,
until a generation's best is validated at the target return.

    .venv/bin/python bench/weights_cycle.py cartpole --seeds 10 --json cartpole.json
    .venv/bin/python bench/weights_cycle.py lander --seeds 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from policies.neuro import holdout_seeds  # noqa: E402
from policies.neuro.weights import load_weights  # noqa: E402
from sandbox.gym_eval import GymTask, NamedWeights  # noqa: E402

NMCTL = ROOT / ".venv" / "bin" / "nmctl"
ENV_IDS = {"cartpole": "CartPole-v1", "lander": "LunarLander-v3"}
UNSEEN = holdout_seeds(100, start=2**29)
"""Episodes no cycle plays: each cycle's held-out blocks lie far below these."""


def target_dir(name: str, seed: int, into: Path) -> Path:
    """A targets folder holding `name`'s own file with its evolution seed set to `seed`."""
    text = (ROOT / "targets" / f"{name}.toml").read_text()
    text, count = re.subn(r"(?m)^\[evolution\]$", f"[evolution]\nseed = {seed}", text)
    assert count == 1, f"{name}.toml has no [evolution] table"
    into.mkdir(parents=True)
    (into / f"{name}.toml").write_text(text)
    (into / "examples").symlink_to(ROOT / "targets" / "examples")
    return into


def unseen_mean(repo: Path, env_id: str, state: Path) -> float:
    """The committed weights' mean return on `UNSEEN`, in the sandbox."""
    from daemon.ledger import Ledger
    from sandbox.docker_backend import DockerBackend
    from sandbox.gym_pool import GymPool

    committed = load_weights(repo / "weights" / "policy.safetensors")
    task = GymTask(env_id, "policy:Policy", committed.policy_kwargs)
    tree = Ledger(repo).snapshot(state / "scoring-tree")
    backend = DockerBackend(state)
    with GymPool(backend, tree, task, port_root=state / "run" / "jobs") as pool:
        done = pool([NamedWeights(committed.tensors, committed.policy_kwargs)], UNSEEN)
    assert not done.errors, done.errors
    return float(done.returns.mean())


def one_cycle(name: str, seed: int, work: Path) -> dict:
    targets = target_dir(name, seed, work / "targets")
    state = work / "state"
    started = time.monotonic()
    done = subprocess.run(
        [
            str(NMCTL),
            "cycle",
            name,
            "--local",
            "--json",
            "--targets",
            str(targets),
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    if done.returncode != 0 and not done.stdout.strip():
        return {"seed": seed, "status": "failed", "wall_s": wall, "error": done.stderr[-2000:]}
    report = json.loads(done.stdout)
    evolution = report.get("evolution") or {}
    row = {
        "seed": seed,
        "status": report["status"],
        "wall_s": round(wall, 2),
        "cycle_s": round(report["seconds"], 2),
        "sandbox_s": round(report["sandbox_seconds"], 2),
        "generations": evolution.get("generations"),
        "env_steps": evolution.get("env_steps"),
        "held_out": report.get("best_score"),
        "unseen": None,
    }
    if report["status"] == "accepted":
        row["unseen"] = round(unseen_mean(state / "bots" / name, ENV_IDS[name], state), 2)
    return row


def cmaes_reference(seed: int) -> dict:
    """Plain CMA-ES on CartPole in this process, the target's settings, until validated."""
    import tomllib

    from neuroevo import InProcess  # bench/, beside this script

    from policies.neuro import Budget, EvolutionConfig, MLPSpec, evolve

    target = tomllib.loads((ROOT / "targets" / "cartpole.toml").read_text())
    kwargs = target["network_kwargs"]
    play = InProcess("cartpole")

    evolution = target["evolution"]
    config = EvolutionConfig(
        method=evolution["method"],
        population=evolution["population"],
        sigma=evolution.get("sigma", 0.05),
        episodes=target["evaluation"]["episodes"],
        seed=seed,
        generations=None,
        env_steps=2_000_000,
    )
    spec = MLPSpec(kwargs["obs_dim"], kwargs["act_dim"], tuple(kwargs["hidden"]))
    validation = holdout_seeds(target["evaluation"]["validation"])
    started = time.perf_counter()
    run = evolve(
        config.strategy(spec),
        play,
        Budget(env_steps=2_000_000, target=target["budget"]["stop_at"]),
        episodes=config.episodes,
        seed=seed,
        validate=lambda genome: float(play([genome], validation).returns.mean()),
    )
    return {
        "seconds": time.perf_counter() - started,
        "env_steps": run.env_steps,
        "stopped": run.stopped,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=sorted(ENV_IDS))
    parser.add_argument("--seeds", type=int, default=5, help="evolution seeds 0..N-1")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--json", default="", help="write the rows to this file")
    args = parser.parse_args(argv)

    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        with tempfile.TemporaryDirectory(prefix=f"nm-bench-{args.target}-") as work:
            row = one_cycle(args.target, seed, Path(work))
        if args.target == "cartpole":
            row["cmaes_in_process_s"] = round(cmaes_reference(seed)["seconds"], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    accepted = [r for r in rows if r["status"] == "accepted"]
    print(
        f"{args.target}: {len(accepted)}/{len(rows)} accepted; unseen means "
        f"{[r['unseen'] for r in rows]}; wall s {[r['wall_s'] for r in rows]}"
    )
    if args.json:
        meta = {"argv": sys.argv, "machine": f"{platform.node()} ({os.cpu_count()} cores)"}
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
