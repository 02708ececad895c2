"""One improvement cycle of a weights target: evolve the policy, commit only a real gain.

Under the lock, recovery and record of `daemon.cycles.code.run_cycle`:

wait if the weights file has uncommitted changes -> export HEAD's tree -> load
the committed weights (a file that fails to load ends the cycle; nothing is
touched) -> read the policy's parameter layout in the sandbox -> baseline: the
committed weights (or, for a target with none yet, a fresh random init) on this
cycle's held-out seeds -> evolution, checkpointed every generation in the run
directory ``state/runs/NAME/head-<HEAD>`` (a cycle interrupted on the same HEAD
resumes there) -> the run's finalists replayed on validation seeds, the best
one on the held-out seeds -> paired comparison with the baseline, a noise
margin -> one commit of the weights and their metadata -> verification of the
weights file as committed, on fresh held-out seeds, in fresh sandboxes, against
the previous weights -> a revert commit if it does not hold up.

Seeds: training episodes use seeds below `policies.neuro.evolve.HOLDOUT`; each
cycle has its own block of held-out seeds above it (acceptance, validation,
verification, in that order, never overlapping), so no cycle's decision reuses
another's episodes. Between cycles, the genome whose weights were last
committed and verified (its mutator and compatibility networks included) is
kept in ``state/runs/NAME/genome.safetensors``: the next run starts from the
committed weights with that genome's evolved mutator, so mutators keep
evolving across cycles. See docs/weights.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import shutil
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from daemon.cycles.code import CycleBase, CycleContext, CycleReport
from daemon.ledger import LedgerError, format_message
from daemon.registry import WeightsTarget
from policies.neuro.accept import Verdict, compare
from policies.neuro.config import EvolutionConfig
from policies.neuro.errors import WeightsFileError
from policies.neuro.evolve import (
    CHECKPOINT,
    CURVE_CSV,
    CURVE_PNG,
    GenerationRecord,
    RunResult,
    evolve,
    holdout_seeds,
)
from policies.neuro.genome import Genome, write_atomic
from policies.neuro.network import MLPSpec
from policies.neuro.weights import WeightsFile, encode_weights, load_weights, to_flat, to_named
from sandbox.gym_eval import GymEvaluation, GymEvaluator, GymTask, NamedWeights, describe_policy

log = logging.getLogger(__name__)

SEED_BLOCK = 100_000
"""Held-out seeds per cycle: acceptance, validation and verification fit in one block."""
RUN_FILE = "run.json"
GENOME_FILE = "genome.safetensors"
KEEP_RUNS = 20
"""Finished run directories (``cycle-N``: curve and run file) kept per target."""
RUN_VERSION = 1

Layout = list[tuple[str, tuple[int, ...]]]
Playable = Genome | NamedWeights


class Stopped(Exception):
    """The stop event was set during evolution: the checkpoint stays for the next cycle."""


class SandboxFailed(Exception):
    """Every genome of a generation failed in the sandbox: the sandbox, not evolution, failed."""


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


class WeightsCycle(CycleBase):
    """One cycle of a `WeightsTarget` (see the module's docstring)."""

    config: WeightsTarget

    def __init__(self, context: CycleContext) -> None:
        super().__init__(context)
        self.runs = self.state / "runs" / self.spec.name
        evaluation = self.config.evaluation
        self.seeds = cycle_seeds(self.number, evaluation.holdout, evaluation.validation)
        self.fields.update(sandbox_seconds=0.0, candidates=0)
        self.shape: tuple[MLPSpec, Layout] | None = None
        """The committed policy's MLP shape and parameter layout, once described."""
        self.task = GymTask(
            self.config.env,
            self.config.policy,
            dict(self.config.policy_kwargs),
            dict(self.config.env_kwargs),
            evaluation.max_steps,
        )

    # --- the cycle ------------------------------------------------------------------------

    def run(self) -> CycleReport:
        """The whole cycle; the repository is touched only by `commit_and_verify`."""
        config = self.config
        dirty = self.ledger.dirty(config.owned)
        if dirty:
            return self.report(
                "waiting",
                f"uncommitted changes in {', '.join(dirty)}: commit or remove them; "
                "this cycle touched nothing",
            )
        tree = self.ledger.snapshot(self.snapshot_path(self.ledger.tree()))
        try:
            committed = load_weights(tree / config.weights) if self.has_weights(tree) else None
        except WeightsFileError as exc:
            return self.report("error", self.unloadable(exc, tree))
        if committed is not None:
            kwargs = self.kwargs(committed.policy_kwargs)
            self.task = dataclasses.replace(self.task, policy_kwargs=kwargs)
        self.progress("phase", name="describe")
        try:
            spec, layout = self.shape = self.describe(tree, self.task.policy_kwargs)
            flat = None if committed is None else self.fit(committed, layout)
        except ValueError as exc:
            return self.report("error", str(exc))
        run_dir, seed = self.run_dir(flat)
        evolution_config = self.evolution_config(seed)
        strategy = evolution_config.strategy(spec, flat, self.ancestor(flat))
        incumbent: Playable  # what the cycle must beat
        if committed is None:  # a new target: a fresh random init (the run's first genome)
            incumbent, what = strategy.ask()[0], "a fresh random init"
        else:
            incumbent = NamedWeights(committed.tensors, self.task.policy_kwargs)
            what = "the committed weights"
        self.progress("phase", name="baseline")
        base = self.play([incumbent], self.seeds["acceptance"], tree, "baseline")
        if base.errors:
            return self.report("error", f"{what} cannot be played: {base.errors[0]}")
        baseline = base.returns[0]
        self.fields["baseline_score"] = float(baseline.mean())
        self.progress("phase", name="evolve")
        try:
            result = self.evolve(strategy, evolution_config, tree, run_dir)
            chosen = self.select(self.finalists(result, strategy), tree)
            self.progress("phase", name="accept")
            trial = self.play([chosen], self.seeds["acceptance"], tree, "accept")
            if self.stop.is_set():
                raise Stopped
        except Stopped:
            return self.report(
                "stopped",
                f"stopped before the end; nothing committed; the run resumes from its "
                f"checkpoint in {run_dir} at the next cycle on this commit",
            )
        margin, z = config.acceptance.margin, config.acceptance.z
        verdict = compare(trial.returns[0], baseline, margin=margin, z=z)
        self.fields["best_score"] = verdict.candidate_mean
        archived = self.archive(run_dir)
        self.fields["evolution"] = self.summary(result, archived, verdict, chosen)
        if not verdict.accepted:
            held = len(self.seeds["acceptance"])
            problem = trial.errors.get(0, verdict.reason)
            return self.report(
                "rejected",
                f"the best of {len(result.history)} generations is not better than {what} "
                f"beyond the noise on {held} held-out episodes: {problem}",
            )
        return self.commit_and_verify(chosen, incumbent, verdict, result, archived, tree)

    # --- the committed weights ----------------------------------------------------------------

    def has_weights(self, tree: Path) -> bool:
        """Whether the commit holds the weights file (a new target has none yet)."""
        return (tree / self.config.weights).is_file()

    def unloadable(self, exc: WeightsFileError, tree: Path) -> str:
        """The reason of a cycle whose committed weights file cannot be read."""
        try:
            name = exc.path.relative_to(tree)
        except ValueError:
            name = exc.path
        return (
            f"the committed weights file {name} cannot be loaded: {exc.reason}. Nothing was "
            f"changed; fix or replace it in {self.spec.repo}"
        )

    def kwargs(self, committed: dict[str, Any] | Any) -> dict[str, Any]:
        """Constructor arguments: the target's, overridden by the weights file's metadata."""
        return {**self.config.policy_kwargs, **dict(committed or {})}

    def describe(self, tree: Path, kwargs: dict[str, Any]) -> tuple[MLPSpec, Layout]:
        """The policy's MLP shape and parameter layout for `kwargs`, read in the sandbox."""
        task = dataclasses.replace(self.task, policy_kwargs=kwargs)
        doc = describe_policy(self.backend, tree, task, self.limits)
        return mlp_layout(doc, self.config.policy, self.config.env)

    def fit(self, committed: WeightsFile, layout: Layout) -> np.ndarray:
        """The committed tensors as one flat vector in the policy's parameter order."""
        try:
            return to_flat(committed.tensors, layout)
        except ValueError as exc:
            raise ValueError(
                f"the committed weights file {self.config.weights} does not fit "
                f"{self.config.policy}(**{self.task.policy_kwargs}): {exc}. Nothing was "
                f"changed; fix it, or its policy_kwargs metadata, in {self.spec.repo}"
            ) from None

    # --- the run directory and the genome kept between cycles ---------------------------------

    def run_dir(self, flat: np.ndarray | None) -> tuple[Path, int]:
        """This HEAD's run directory and its seed: resumed if it fits, else made afresh.

        Runs of other commits were interrupted and can no longer be resumed: removed.
        """
        head = self.ledger.head()
        path = self.runs / f"head-{head[:12]}"
        for other in self.runs.glob("head-*"):
            if other != path:
                log.info(
                    "%s: discarding %s, an interrupted run of another commit", self.spec.name, other
                )
                shutil.rmtree(other, ignore_errors=True)
        fingerprint = self.fingerprint(flat)
        try:
            info = json.loads((path / RUN_FILE).read_text())
            if info.get("fingerprint") == fingerprint and info.get("version") == RUN_VERSION:
                log.info("%s: resuming the run in %s", self.spec.name, path)
                return path, int(info["seed"])
            log.info("%s: %s was run with other settings; starting afresh", self.spec.name, path)
        except (OSError, ValueError, KeyError):
            pass
        shutil.rmtree(path, ignore_errors=True)
        seed = self.config.evolution.seed * 1_000_003 + self.number
        info = {
            "version": RUN_VERSION,
            "target": self.spec.name,
            "head": head,
            "cycle": self.number,
            "seed": seed,
            "fingerprint": fingerprint,
        }
        write_atomic(path / RUN_FILE, (json.dumps(info, indent=2) + "\n").encode())
        return path, seed

    def fingerprint(self, flat: np.ndarray | None) -> str:
        """What a resumed run must share with the interrupted one (the budget may differ)."""
        config = self.config
        ancestor = self.runs / GENOME_FILE
        doc = {
            "env": config.env,
            "env_kwargs": config.env_kwargs,
            "policy": config.policy,
            "policy_kwargs": self.task.policy_kwargs,
            "training": config.evaluation.model_dump(include={"episodes", "max_steps"}),
            "evolution": config.evolution.model_dump(mode="json"),
            "weights": None if flat is None else hashlib.sha256(flat.tobytes()).hexdigest(),
            "ancestor": _digest(ancestor) if ancestor.is_file() else None,
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()

    def ancestor(self, flat: np.ndarray | None) -> Genome | None:
        """The genome kept from the last verified commit, if it can seed this run."""
        path = self.runs / GENOME_FILE
        method = self.config.evolution.method
        if flat is None or method == "es" or not path.is_file():
            return None
        try:
            genome = Genome.load(path)
        except WeightsFileError as exc:
            log.warning("%s: ignoring the kept genome: %s", self.spec.name, exc)
            return None
        if genome.kind != method:
            log.info(
                "%s: the kept genome's mutator is %s, not %s", self.spec.name, genome.kind, method
            )
            return None
        return genome

    def archive(self, run_dir: Path) -> Path:
        """Keep a finished run's curve and run file as ``cycle-N``; drop its checkpoint."""
        final = self.runs / f"cycle-{self.number}"
        shutil.rmtree(final, ignore_errors=True)
        (run_dir / CHECKPOINT).unlink(missing_ok=True)
        os.replace(run_dir, final)
        done = sorted(self.runs.glob("cycle-*"), key=lambda p: int(p.name.split("-")[1]))
        for old in done[:-KEEP_RUNS]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    # --- evolution and selection --------------------------------------------------------------

    def evolution_config(self, seed: int) -> EvolutionConfig:
        """The run's settings: the target's, with its budget times this cycle's share."""
        budget = self.config.budget

        def scaled(limit: int | None) -> int | None:
            return None if limit is None else max(1, math.ceil(limit * self.share))

        return self.config.evolution.config(
            generations=scaled(budget.generations),
            seconds=budget.seconds * self.share,
            env_steps=scaled(budget.env_steps),
            target=budget.stop_at,
            episodes=self.config.evaluation.episodes,
            seed=seed,
        )

    def evolve(
        self, strategy: Any, config: EvolutionConfig, tree: Path, run_dir: Path
    ) -> RunResult:
        """Generations in the sandbox until the budget is spent, checkpointed in `run_dir`."""

        def evaluate(genomes: Sequence[Genome], seeds: Sequence[int]) -> GymEvaluation:
            if self.stop.is_set():
                raise Stopped
            done = self.play(genomes, seeds, tree, "gen")
            self.fields["candidates"] += len(genomes)
            if len(done.errors) == len(genomes):
                raise SandboxFailed(f"every genome failed in the sandbox: {done.errors[0]}")
            return done

        def observe(record: GenerationRecord) -> None:
            self.progress(
                "generation",
                generation=record.generation,
                total=config.generations,
                best=_finite(record.best),
                mean=_finite(record.mean),
                best_so_far=_finite(record.best_so_far),
                escape_p=_finite(record.stats.get("escape_p")),
                env_steps=record.env_steps,
                wall_time=round(record.wall_time, 2),
            )

        return evolve(
            strategy,
            evaluate,
            config.budget(),
            episodes=config.episodes,
            seed=config.seed,
            run_dir=run_dir,
            observers=[observe],
            title=f"{self.spec.name}: {self.config.env}, {config.method}",
        )

    def finalists(self, result: RunResult, strategy: Any) -> list[Genome]:
        """The run's champion and the best of its last generation (its elite, or the ES center)."""
        keep = 1 if self.config.evolution.method == "es" else max(1, self.config.evolution.elite)
        out: list[Genome] = []
        for genome in [result.champion, *strategy.ask()[:keep]]:
            if not any(genome.same_bits(o) for o in out):
                out.append(genome)
        return out

    def select(self, finalists: list[Genome], tree: Path) -> Genome:
        """The finalist with the best mean on the validation seeds (ties: the champion)."""
        seeds = self.seeds["validation"]
        if len(finalists) == 1 or not seeds:
            return finalists[0]
        self.progress("phase", name="select")
        done = self.play(finalists, seeds, tree, "select")
        return finalists[int(np.argmax(done.fitness))]

    def play(
        self, genomes: Sequence[Playable], seeds: Sequence[int], tree: Path, step: str
    ) -> GymEvaluation:
        """One episode per genome and seed, in the sandbox, on the tree `tree`."""
        evaluator = GymEvaluator(
            self.backend,
            tree,
            self.task,
            limits=self.limits,
            workers=self.config.sandbox.parallel,
            name=f"{self.spec.name}-{step}",
        )
        done = evaluator(genomes, seeds)
        self.fields["sandbox_seconds"] += sum(r.wall_time for r in done.results)
        return done

    # --- commit, verify, revert ---------------------------------------------------------------

    def commit_and_verify(
        self,
        chosen: Genome,
        incumbent: Playable,
        verdict: Verdict,
        result: RunResult,
        archived: Path,
        tree: Path,
    ) -> CycleReport:
        """One commit of the weights (and metadata); verification; a revert if it fails."""
        config = self.config
        kwargs = self.kwargs(chosen.policy_kwargs)
        spec, layout = self.shape
        if chosen.spec != spec:  # structural growth or pruning: the module names the new layers
            _, layout = self.describe(tree, kwargs)
        old, new = verdict.incumbent_mean, verdict.candidate_mean
        held = len(self.seeds["acceptance"])
        method = config.evolution.method
        generations, steps = len(result.history), result.env_steps
        metadata = {
            "policy": config.policy,
            "env": config.env,
            "target": self.spec.name,
            "cycle": str(self.number),
            "method": method,
            "generations": str(generations),
            "env_steps": str(steps),
            "holdout_mean": f"{new:.4f}",
            "holdout_episodes": str(held),
        }
        files = encode_weights(
            config.weights, WeightsFile(to_named(chosen.policy, layout), kwargs, metadata)
        )
        subject = (
            f"{self.spec.name}: evolved weights, held-out return {old:.1f} -> {new:.1f} "
            f"({method}, {generations} generations)"
        )
        arguments = ", ".join(f"{k}={json.dumps(v)}" for k, v in kwargs.items())
        body = "\n".join(
            [
                textwrap.fill(
                    f"Mean return over {held} held-out episodes of {config.env} (seeds never "
                    f"trained on): {old:.2f} -> {new:.2f}; lower bound of the gain "
                    f"{verdict.lower_bound:.2f} > margin {config.acceptance.margin}.",
                    72,
                ),
                "",
                f"Method: {method}, population {config.evolution.population}, "
                f"{generations} generations, {steps} environment steps",
                f"Policy: {config.policy}({arguments})",
                f"Curve: {archived / CURVE_PNG} (and {CURVE_CSV})",
            ]
        )
        message = format_message(
            subject,
            body,
            {
                "Target": self.spec.name,
                "Cycle": self.number,
                "Method": method,
                "Score": f"{old:.2f} -> {new:.2f}",
                "Episodes": held,
                "Generations": generations,
                "Env-Steps": steps,
            },
        )
        self.progress("phase", name="commit")
        try:
            sha = self.ledger.commit_files(
                {path.as_posix(): data for path, data in files.items()}, message
            )
        except LedgerError as exc:
            return self.report("waiting", f"not committed: {exc}")
        self.fields["commit"] = sha
        self.store.add_commit(self.spec.name, self.cycle_id, sha, "accept", subject)
        problem = self.verify(incumbent)
        if problem is not None:
            return self.revert_unverified(sha, subject, problem)
        try:  # its mutator seeds the next run; losing it only costs that head start
            chosen.save(
                self.runs / GENOME_FILE,
                {"target": self.spec.name, "cycle": str(self.number), "commit": sha},
            )
        except OSError as exc:
            log.warning("%s: could not keep the genome of %s: %s", self.spec.name, sha[:12], exc)
        return self.report("accepted", f"{subject} [{sha[:12]}]")

    def verify(self, incumbent: Playable) -> str | None:
        """Why the committed weights file fails verification, or None.

        It is read back from a fresh export of the new commit and played, with the
        previous weights, on held-out seeds no earlier step used; its mean must beat
        theirs by more than the margin.
        """
        self.progress("phase", name="verify")
        tree = self.ledger.snapshot(self.snapshot_path(self.ledger.tree()))
        try:
            committed = load_weights(tree / self.config.weights)
        except WeightsFileError as exc:
            return self.unloadable(exc, tree)
        new = NamedWeights(committed.tensors, self.kwargs(committed.policy_kwargs))
        seeds = self.seeds["verification"]
        done = self.play([new, incumbent], seeds, tree, "verify")
        if done.errors:
            return f"the committed weights cannot be played: {next(iter(done.errors.values()))}"
        mine, theirs = done.returns.mean(axis=1)
        margin = self.config.acceptance.margin
        if mine - theirs <= margin:
            return (
                f"on {len(seeds)} fresh held-out episodes the committed weights averaged "
                f"{mine:.2f}, the previous ones {theirs:.2f}: not above by the margin {margin}"
            )
        return None

    def summary(
        self, result: RunResult, archived: Path, verdict: Verdict, chosen: Genome
    ) -> dict[str, Any]:
        """The report's account of the run."""
        return {
            "method": self.config.evolution.method,
            "population": self.config.evolution.population,
            "generations": len(result.history),
            "resumed_at": result.resumed_at,
            "env_steps": result.env_steps,
            "stopped": result.stopped,
            "champion_training_return": _finite(result.champion_fitness),
            "holdout_episodes": len(self.seeds["acceptance"]),
            "lower_bound": _finite(verdict.lower_bound),
            "policy_kwargs": self.kwargs(chosen.policy_kwargs),
            "run_dir": str(archived),
            "curve_csv": str(archived / CURVE_CSV),
            "curve_png": str(archived / CURVE_PNG),
        }


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _finite(value: float | None) -> float | None:
    """JSON-friendly: None for a missing or infinite number."""
    return None if value is None or not math.isfinite(value) else float(value)
