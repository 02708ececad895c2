"""Neuroevolution benchmark: DualMixture vs plain Gaussian mutation vs OpenAI-ES vs CMA-ES.

Each method gets the same budget of environment steps on each environment, for
several seeds. Reported per run: environment steps and wall time until the
solve threshold was reached (CartPole-v1 475, LunarLander-v3 200), the final
mean return on 100 held-out episodes (seeds never trained on), and the
evaluator's environment steps per second.

"Solved" means: a generation's best training return reached the threshold
plus `--margin` and that genome's mean over `--validation` episodes (20;
held-out seeds, not the final ones) reached it too; the run then stops.
Validation steps are not counted in the budget but are reported. A run that
never solves spends the whole budget, and its champion (best training return)
is the one tested. A row's ``final_ok`` says whether the final mean holds the
threshold: on LunarLander a genome that scrapes 200 on 20 validation episodes
can score 180 on the 100 final ones, so `--margin` and `--validation` trade
such false solves for longer runs.

The network (`--hidden`, "" for a linear policy), population, episodes per
genome, sigma, the ES's `--lr` and CMA-ES's `--diagonal` are set per run; the
policy class is the example target's own (`targets/examples/<env>`).

By default episodes are played **in-process** (the same rollout code as the
sandbox's gym runner, `sandbox/runners/gym_run.py`, called directly) so that
the figures measure the search methods, not container start-up. `--sandbox`
evaluates in Docker as the daemon does (one container per slice of the
population, `--workers` at once). The daemon path always uses the sandbox.

Like torch, numpy's BLAS runs on one thread (unless OPENBLAS_NUM_THREADS says
otherwise): CMA-ES's small eigendecompositions are several times slower spread
over busy cores, which would measure the machine's load, not the method.

    .venv/bin/python bench/neuroevo.py --envs cartpole --seeds 3 --steps 2000000
    .venv/bin/python bench/neuroevo.py --envs lander --methods dualmixture --steps 20000000
    .venv/bin/python bench/neuroevo.py --envs lander --methods cmaes --hidden 8 \
        --population 32 --episodes 5 --sigma 0.3 --steps 4500000 --seeds 5 --margin 10
    .venv/bin/python bench/neuroevo.py --envs cartpole lander --seeds 5 --steps 4500000 \
        --hidden 8 --population 32 --episodes 5 --sigma 0.3 --margin 10  # the full grid
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads its BLAS

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from policies.neuro import Budget, EvolutionConfig, MLPSpec, evolve, holdout_seeds  # noqa: E402
from policies.neuro.progress import TerminalProgress  # noqa: E402
from sandbox.runners import gym_run  # noqa: E402

EXAMPLES = ROOT / "targets" / "examples"
ENVS = {
    "cartpole": {"id": "CartPole-v1", "obs": 4, "act": 2, "hidden": (16,), "solve": 475.0},
    "lander": {"id": "LunarLander-v3", "obs": 8, "act": 4, "hidden": (32, 32), "solve": 200.0},
}
METHODS = ("dualmixture", "gaussian", "es", "cmaes")
FIXED_SHAPE = ("es", "cmaes")  # no crossover
FINAL = holdout_seeds(100, start=1000)


@dataclass
class Played:
    returns: np.ndarray
    env_steps: int
    seconds: float


class InProcess:
    """Plays episodes in this process with the target's own policy class (not sandboxed)."""

    def __init__(self, env: str) -> None:
        self.env_id = ENVS[env]["id"]
        self.cls = gym_run.load_class("policy:Policy", str(EXAMPLES / env))

    def __call__(self, genomes, seeds) -> Played:
        started = time.perf_counter()
        policies = [
            gym_run.build_policy(self.cls, g.policy_kwargs, torch.from_numpy(g.policy.copy()))
            for g in genomes
        ]
        done = gym_run.rollout(self.env_id, policies, seeds)
        seconds = time.perf_counter() - started
        return Played(np.array(done["returns"], dtype=np.float64), done["env_steps"], seconds)


class Timed:
    """Counts the environment steps and the wall time of an evaluator, containers included."""

    def __init__(self, evaluate) -> None:
        self.evaluate = evaluate
        self.steps = 0
        self.seconds = 0.0

    def __call__(self, genomes, seeds):
        started = time.perf_counter()
        out = self.evaluate(genomes, seeds)
        self.seconds += time.perf_counter() - started
        self.steps += int(out.env_steps)
        return out


def sandboxed(env: str, spec: MLPSpec, workers: int):
    """Long-lived Docker sandboxes, as a weights cycle has them (close them after the run)."""
    from sandbox.backend import open_backend
    from sandbox.gym_eval import GymTask
    from sandbox.gym_pool import GymPool

    state = ROOT / "state"
    backend = open_backend(state)
    task = GymTask(ENVS[env]["id"], "policy:Policy", spec.kwargs())
    tree = Path(tempfile.mkdtemp(prefix="nm-bench-"))  # readable by the sandbox user
    shutil.copy(EXAMPLES / env / "policy.py", tree / "policy.py")
    tree.chmod(0o755)
    return GymPool(backend, tree, task, port_root=state / "run" / "jobs", workers=workers).start()


def run_one(env: str, method: str, seed: int, args: argparse.Namespace) -> dict:
    info = ENVS[env]
    hidden = info["hidden"] if args.hidden is None else args.hidden
    spec = MLPSpec(info["obs"], info["act"], hidden)
    config = EvolutionConfig(
        method=method,
        population=args.population,
        episodes=args.episodes,
        seed=seed,
        generations=None,
        env_steps=args.steps,
        sigma=args.sigma,
        lr=args.lr,
        diagonal=args.diagonal,
        restarts=args.restarts,
        stall=args.stall,
        growth=args.growth,
        crossover=0.0 if method in FIXED_SHAPE else args.crossover,
    )
    strategy = config.strategy(spec)
    play = sandboxed(env, spec, args.workers) if args.sandbox else InProcess(env)
    evaluate = Timed(play)
    checker = Timed(InProcess(env))
    bar = info["solve"] + args.margin
    validation = holdout_seeds(args.validation)
    solved: dict = {}

    class Solve:
        """Stops the run once the best of a generation holds up on validation episodes.

        The bar is the solve threshold plus `--margin`: a genome that just scrapes the
        threshold on 20 validation episodes often falls short on the 100 final ones.
        """

        def __call__(self, record) -> None:
            if solved or record.best < bar:
                return
            genome, _ = strategy.best()
            check = checker([genome], validation).returns.mean()
            if check >= bar:
                solved.update(
                    steps=record.env_steps,
                    seconds=round(record.wall_time, 1),
                    generation=record.generation,
                    validation=float(check),
                    genome=genome,
                )

    budget = Budget(env_steps=args.steps)
    observers = [Solve()]
    if args.progress:
        observers.append(TerminalProgress())
    if args.log:
        observers.append(lambda r: _log(r, args.log))
    run_dir = Path(args.out) / f"{env}-{method}-{seed}" if args.out else None

    # Stop on solve: wrap the budget check through a tiny evaluate wrapper.
    def guarded(genomes, seeds):
        if solved:
            raise _Solved
        return evaluate(genomes, seeds)

    started = time.perf_counter()
    try:
        result = evolve(
            strategy,
            guarded,
            budget,
            episodes=args.episodes,
            seed=seed,
            run_dir=run_dir,
            observers=observers,
            title=f"{info['id']} {method} seed {seed}",
        )
        champion, history = result.champion, result.history
    except _Solved:
        champion, history = solved["genome"], None
    wall = time.perf_counter() - started
    if args.sandbox:
        play.close()
    validation_steps = checker.steps
    final = checker([champion], FINAL).returns[0]
    rate = evaluate.steps / evaluate.seconds if evaluate.seconds else None
    return {
        "env": info["id"],
        "method": method,
        "seed": seed,
        "config": describe(hidden, args, method),
        "solved": bool(solved),
        "steps_to_solve": solved.get("steps"),
        "seconds_to_solve": solved.get("seconds"),
        "generations": solved.get("generation") or (len(history) if history else None),
        "env_steps": evaluate.steps,
        "validation_steps": validation_steps,
        "wall_time": round(wall, 1),
        "final_mean": round(float(final.mean()), 2),
        "final_std": round(float(final.std()), 2),
        "final_ok": bool(final.mean() >= info["solve"]),
        "params": int(champion.policy.size),
        "evaluator_steps_per_s": round(rate) if rate else None,
    }


def describe(hidden, args: argparse.Namespace, method: str) -> str:
    """The settings that tell runs of one method apart, for the rows and the table."""
    step = f"lr {args.lr:g}" if method == "es" else ""
    diag = {None: "", True: "diagonal", False: "full"}[args.diagonal] if method == "cmaes" else ""
    ipop = args.restarts and method == "cmaes"
    restarts = f"{args.restarts} restarts x{args.growth} after {args.stall} gen" if ipop else ""
    parts = [
        f"hidden {list(hidden)}",
        f"pop {args.population}",
        f"{args.episodes} ep",
        f"sigma {args.sigma:g}",
        step,
        diag,
        restarts,
        f"validation {args.validation} ep, margin {args.margin:g}",
    ]
    return ", ".join(p for p in parts if p)


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``--hidden`` as layer widths: "32,32", "16", or "" for a linear policy."""
    return tuple(int(w) for w in text.replace(" ", ",").split(",") if w)


def switch(text: str) -> bool | None:
    """``--diagonal``: on, off or auto (the strategy's own rule)."""
    return {"on": True, "off": False, "auto": None}[text]


class _Solved(Exception):
    pass


def _log(record, every: int) -> None:
    if record.generation % every == 0:
        print(
            f"  gen {record.generation} steps {record.env_steps:,} {record.wall_time:.0f}s "
            f"best {record.best:.0f} mean {record.mean:.0f}",
            file=sys.stderr,
            flush=True,
        )


def table(rows: list[dict], args: argparse.Namespace) -> str:
    """Markdown: per env and method, solved runs, steps and seconds to solve, final means."""
    lines = [
        "| env | method | config | solved | final >= threshold | median steps to solve | "
        "median s to solve | final mean (100 held-out) | evaluator steps/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for env in args.envs:
        for method in args.methods:
            mine = [r for r in rows if r["method"] == method and r["env"] == ENVS[env]["id"]]
            if not mine:
                continue
            hits = [r for r in mine if r["solved"]]
            steps = np.median([r["steps_to_solve"] for r in hits]) if hits else None
            secs = np.median([r["seconds_to_solve"] for r in hits]) if hits else None
            finals = ", ".join(f"{r['final_mean']:.0f}" for r in mine)
            good = sum(r["final_ok"] for r in mine)
            rates = [r["evaluator_steps_per_s"] for r in mine if r["evaluator_steps_per_s"]]
            rate = f"{np.median(rates):,.0f}" if rates else "-"
            lines.append(
                f"| {ENVS[env]['id']} | {method} | {mine[0]['config']} | "
                f"{len(hits)}/{len(mine)} | {good}/{len(mine)} | "
                f"{'-' if steps is None else f'{steps:,.0f}'} | "
                f"{'-' if secs is None else f'{secs:.0f}'} | {finals} | {rate} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", nargs="+", default=["cartpole"], choices=sorted(ENVS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=2_000_000, help="env steps per run")
    parser.add_argument("--population", type=int, default=33)
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--sigma", type=float, default=0.05)
    parser.add_argument("--lr", type=float, default=0.03, help="step size of es")
    parser.add_argument(
        "--diagonal", type=switch, default=None, help="cmaes covariance: on, off or auto"
    )
    parser.add_argument("--restarts", type=int, default=0, help="cmaes: IPOP restarts at most")
    parser.add_argument("--stall", type=int, default=20, help="cmaes: generations to a restart")
    parser.add_argument("--growth", type=int, default=2, help="cmaes: population factor")
    parser.add_argument(
        "--hidden", type=hidden_sizes, default=None, help='e.g. "16,16"; "" is linear'
    )
    parser.add_argument(
        "--margin", type=float, default=0.0, help="validation bar above the solve threshold"
    )
    parser.add_argument(
        "--validation", type=int, default=20, help="held-out episodes of the solve check"
    )
    parser.add_argument("--crossover", type=float, default=0.0)
    parser.add_argument("--sandbox", action="store_true", help="evaluate in Docker")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--log", type=int, default=0, help="a stderr line every N generations")
    parser.add_argument("--out", default="", help="run directories (checkpoints, curves)")
    parser.add_argument("--json", default="", help="write all rows to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for env in args.envs:
        for method in args.methods:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                row = run_one(env, method, seed, args)
                rows.append(row)
                print(json.dumps(row), flush=True)
    print()
    print(table(rows, args))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
