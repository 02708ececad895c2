"""One improvement cycle of a weights target: evolve the network, commit only a real gain.

wait if the weights file has uncommitted changes -> export HEAD's tree -> start
the cycle's long-lived sandboxes (`sandbox.gym_pool`: torch, the environment
and the policy loaded once per worker, for every step up to the commit) -> load
the committed weights (a file that fails to load ends the cycle; nothing is
touched) -> read the network's parameter layout in the sandbox -> baseline: the
committed weights (or, for a target with none yet, a fresh random init) on this
cycle's held-out seeds -> evolution, checkpointed every generation in the run
folder (`daemon.cycles.runs`) -> the run's finalists replayed on validation
seeds, the best one on the held-out seeds (`daemon.cycles.network`) -> paired
comparison with the baseline, a noise margin -> one commit of the weights and
their metadata -> verification of the weights file as committed, on fresh
held-out seeds, in fresh sandboxes, against the previous weights -> a revert
commit if it does not hold up. See docs/weights.md.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from daemon.cycles.base import Cycle, CycleContext
from daemon.cycles.events import Phase
from daemon.cycles.network import Layout, cycle_seeds, mlp_layout
from daemon.cycles.report import CycleReport
from daemon.cycles.run_account import RunAccount, generation_event
from daemon.cycles.runs import RunFolder
from daemon.cycles.sandboxes import CycleSandboxes
from daemon.registry import WeightsTarget
from daemon.registry.weights import FIXED_SHAPE
from policies.errors import WeightsFileError
from policies.neuro import curve
from policies.neuro.accept import Verdict, compare
from policies.neuro.config import EvolutionConfig
from policies.neuro.evolve import CURVE_PNG, GenerationRecord, RunResult, evolve
from policies.neuro.genome import Genome
from policies.neuro.network import MLPSpec
from policies.neuro.weights import WeightsFile, encode_weights, load_weights, to_flat, to_named
from policies.status import CycleStatus
from sandbox.gym_eval import GymEvaluation, GymTask, NamedWeights

log = logging.getLogger(__name__)

Playable = Genome | NamedWeights
Change = tuple[dict[str, bytes], str, str, dict[str, Any]]
"""What `commit_verified` takes: files, subject, body, trailers."""


class Stopped(Exception):
    """The stop event was set during evolution: the checkpoint stays for the next cycle."""


class SandboxFailed(Exception):
    """Every genome of a generation failed in the sandbox: the sandbox, not evolution, failed."""


class WeightsCycle(Cycle):
    """One cycle of a `WeightsTarget` (see the module's docstring)."""

    config: WeightsTarget

    def __init__(self, context: CycleContext) -> None:
        super().__init__(context)
        self.runs = RunFolder(self.state / "runs" / self.spec.name, self.spec.name)
        evaluation = self.config.evaluation
        self.seeds = cycle_seeds(self.number, evaluation.holdout, evaluation.validation)
        self.committed: NamedWeights | None = None
        self.incumbent: Playable | None = None
        """What the cycle must beat: the committed weights, or a new target's random init."""
        self.chosen: Genome | None = None
        self.shape: tuple[MLPSpec, Layout] | None = None
        """The committed policy's MLP shape and parameter layout, once described."""
        self.sandboxes = CycleSandboxes(
            self.backend, self.state, self.limits, self.config.sandbox.parallel, self.spec.name
        )
        self.base = ""
        """The commit the cycle's tree was exported from."""
        self.task = GymTask(
            self.config.env,
            self.config.network,
            dict(self.config.network_kwargs),
            dict(self.config.env_kwargs),
            evaluation.max_steps,
        )

    # --- the cycle ------------------------------------------------------------------------

    def run(self) -> CycleReport:
        """The whole cycle; the repository changes only through `commit_verified`."""
        waiting = self.waiting_for_edits(self.config.owned)
        if waiting:
            return waiting
        self.base = self.ledger.head()
        tree = self.snapshot(self.base)
        try:
            with self.sandboxes.use(self.sandboxes.pool(tree, self.task, "train")):
                outcome = self.improve(tree)
            report = outcome if isinstance(outcome, CycleReport) else self.commit_verified(*outcome)
        finally:
            self.counters.sandbox_seconds = self.sandboxes.finish()
        report.sandbox_seconds = self.counters.sandbox_seconds  # the sandboxes' ends included
        report.seconds = time.monotonic() - self.started
        return report

    def improve(self, tree: Path) -> CycleReport | Change:
        """Baseline, evolution and acceptance on `tree`: the change to commit, or why none."""
        prepared = self.prepare(tree)
        if isinstance(prepared, CycleReport):
            return prepared
        spec, flat = prepared
        fingerprint = self.runs.fingerprint(self.settings(), flat)
        seed = self.config.evolution.seed * 1_000_003 + self.number
        run_dir, seed = self.runs.open(self.ledger.head(), self.number, fingerprint, seed)
        evolution_config = self.evolution_config(seed)
        ancestor = self.runs.ancestor(self.config.evolution.method, flat)
        strategy = evolution_config.strategy(spec, flat, ancestor)
        if flat is None:  # a new target: a fresh random init (the run's first genome)
            self.incumbent, what = strategy.ask()[0], "a fresh random init"
        else:
            self.incumbent, what = self.committed, "the committed weights"
        self.progress(Phase("baseline"))
        base = self.play([self.incumbent], self.seeds["acceptance"])
        if base.errors:
            return self.report(CycleStatus.ERROR, f"{what} cannot be played: {base.errors[0]}")
        self.counters.baseline_score = float(base.returns[0].mean())
        try:
            result, chosen, trial = self.search(strategy, evolution_config, run_dir)
        except Stopped:
            return self.report(
                CycleStatus.STOPPED,
                f"stopped before the end; nothing committed; the run resumes from its "
                f"checkpoint in {run_dir} at the next cycle on this commit",
            )
        acceptance = self.config.acceptance
        verdict = compare(
            trial.returns[0], base.returns[0], margin=acceptance.margin, z=acceptance.z
        )
        self.counters.best_score = verdict.candidate_mean
        archived = self.runs.archive(run_dir, self.number)
        self.plot(archived, result)
        kwargs = self.kwargs(chosen.policy_kwargs)
        self.counters.evolution = self.account(kwargs, verdict, result, archived).summary()
        if not verdict.accepted:
            held = len(self.seeds["acceptance"])
            problem = trial.errors.get(0, verdict.reason)
            return self.report(
                CycleStatus.REJECTED,
                f"the best of {len(result.history)} generations is not better than {what} "
                f"beyond the noise on {held} held-out episodes: {problem}",
            )
        self.chosen = chosen
        return self.change(chosen, verdict, result, archived)

    def prepare(self, tree: Path) -> tuple[MLPSpec, np.ndarray | None] | CycleReport:
        """The network's shape and the committed weights as a flat vector (None: none yet)."""
        try:
            committed = load_weights(tree / self.config.weights) if self.has_weights(tree) else None
        except WeightsFileError as exc:
            return self.report(CycleStatus.ERROR, self.unloadable(exc, tree))
        if committed is not None:
            kwargs = self.kwargs(committed.policy_kwargs)
            self.task = dataclasses.replace(self.task, network_kwargs=kwargs)
            self.committed = NamedWeights(committed.tensors, kwargs)
        self.progress(Phase("describe"))
        try:
            spec, layout = self.shape = self.describe(self.task.network_kwargs)
            return spec, None if committed is None else self.fit(committed, layout)
        except ValueError as exc:
            return self.report(CycleStatus.ERROR, str(exc))

    def settings(self) -> dict[str, Any]:
        """The settings a resumed run must share with the interrupted one."""
        config = self.config
        return {
            "env": config.env,
            "env_kwargs": config.env_kwargs,
            "policy": config.network,  # (the fingerprint's keys predate the rename)
            "policy_kwargs": self.task.network_kwargs,
            "training": config.evaluation.model_dump(include={"episodes", "max_steps"}),
            "evolution": config.evolution.model_dump(mode="json"),
        }

    def search(
        self, strategy: Any, config: EvolutionConfig, run_dir: Path
    ) -> tuple[RunResult, Genome, GymEvaluation]:
        """Evolve, pick the best finalist on validation seeds, replay it on acceptance seeds.

        Raises:
            Stopped: the daemon is stopping; the run's checkpoint stays for the next cycle.
        """
        self.progress(Phase("evolve"))
        self.sandboxes.start_spare(self.task)  # ready by the commit
        result = self.evolve(strategy, config, run_dir)
        chosen = self.select(self.finalists(result, strategy))
        self.progress(Phase("accept"))
        trial = self.play([chosen], self.seeds["acceptance"])
        if self.stop.is_set():
            raise Stopped
        return result, chosen, trial

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
        return {**self.config.network_kwargs, **dict(committed or {})}

    def describe(self, kwargs: dict[str, Any]) -> tuple[MLPSpec, Layout]:
        """The policy's MLP shape and parameter layout for `kwargs`, read in the sandbox."""
        doc = self.sandboxes.describe(kwargs)
        return mlp_layout(doc, self.config.network, self.config.env)

    def fit(self, committed: WeightsFile, layout: Layout) -> np.ndarray:
        """The committed tensors as one flat vector in the policy's parameter order."""
        try:
            return to_flat(committed.tensors, layout)
        except ValueError as exc:
            raise ValueError(
                f"the committed weights file {self.config.weights} does not fit "
                f"{self.config.network}(**{self.task.network_kwargs}): {exc}. Nothing was "
                f"changed; fix it, or its policy_kwargs metadata, in {self.spec.repo}"
            ) from None

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

    def evolve(self, strategy: Any, config: EvolutionConfig, run_dir: Path) -> RunResult:
        """Generations in the sandbox until the budget is spent, checkpointed in `run_dir`."""

        def evaluate(genomes: Sequence[Genome], seeds: Sequence[int]) -> GymEvaluation:
            if self.stop.is_set():
                raise Stopped
            done = self.play(genomes, seeds)
            self.counters.candidates += len(genomes)
            if len(done.errors) == len(genomes):
                raise SandboxFailed(f"every genome failed in the sandbox: {done.errors[0]}")
            return done

        def observe(record: GenerationRecord) -> None:
            self.progress(generation_event(record, config.generations))

        def validate(genome: Genome) -> float:
            if not self.seeds["validation"]:
                return math.inf
            return float(self.play([genome], self.seeds["validation"]).fitness[0])

        return evolve(
            strategy,
            evaluate,
            config.budget(),
            validate=validate,
            episodes=config.episodes,
            seed=config.seed,
            run_dir=run_dir,
            observers=[observe],
            title=self.title(),
            plot_every=0,  # generations take milliseconds: the CSV is the live curve
            final_plot=False,  # drawn by `plot` while the cycle goes on
        )

    def title(self) -> str:
        """The training curve's title."""
        return f"{self.spec.name}: {self.config.env}, {self.config.evolution.method}"

    def plot(self, archived: Path, result: RunResult) -> None:
        """Draw the run's curve (about a second) while the cycle goes on."""
        rows = [record.row() for record in result.history]
        path, title = archived / CURVE_PNG, self.title()
        draw = f"{self.spec.name}: drawing the training curve"
        self.sandboxes.in_background(draw, lambda: curve.write_png(path, rows, title))

    def finalists(self, result: RunResult, strategy: Any) -> list[Genome]:
        """The champion, the best validated genome, the last generation's best (or mean)."""
        keep = (
            1
            if self.config.evolution.method in FIXED_SHAPE
            else max(1, self.config.evolution.elite)
        )
        validated = [] if result.validated is None else [result.validated]
        out: list[Genome] = []
        for genome in [result.champion, *validated, *strategy.ask()[:keep]]:
            if not any(genome.same_bits(o) for o in out):
                out.append(genome)
        return out

    def select(self, finalists: list[Genome]) -> Genome:
        """The finalist with the best mean on the validation seeds (ties: the champion)."""
        seeds = self.seeds["validation"]
        if len(finalists) == 1 or not seeds:
            return finalists[0]
        self.progress(Phase("select"))
        done = self.play(finalists, seeds)
        return finalists[int(np.argmax(done.fitness))]

    def play(self, genomes: Sequence[Playable], seeds: Sequence[int]) -> GymEvaluation:
        """One episode per genome and seed, in the current step's sandboxes."""
        return self.sandboxes.play(genomes, seeds)

    # --- commit, verify, revert ---------------------------------------------------------------

    def change(self, chosen: Genome, verdict: Verdict, result: RunResult, archived: Path) -> Change:
        """The weights file (and metadata) to commit, with the commit's message."""
        kwargs = self.kwargs(chosen.policy_kwargs)
        assert self.shape is not None  # described before evolution
        spec, layout = self.shape
        if chosen.spec != spec:  # structural growth or pruning: the module names the new layers
            _, layout = self.describe(kwargs)
        run = self.account(kwargs, verdict, result, archived)
        weights = WeightsFile(to_named(chosen.policy, layout), kwargs, run.metadata())
        files = encode_weights(self.config.weights, weights)
        changes = {path.as_posix(): data for path, data in files.items()}
        return changes, run.subject(), run.body(), run.trailers()

    def account(
        self, kwargs: dict[str, Any], verdict: Verdict, result: RunResult, archived: Path
    ) -> RunAccount:
        """The run, as the commit and the report tell it."""
        held = len(self.seeds["acceptance"])
        return RunAccount(
            self.spec.name, self.number, self.config, kwargs, verdict, result, archived, held
        )

    def verified(self, sha: str) -> None:
        """Keep the committed genome: its mutator seeds the next run."""
        if self.chosen is not None:
            meta = {"target": self.spec.name, "cycle": str(self.number), "commit": sha}
            self.runs.keep(self.chosen, meta)

    def verify(self) -> str | None:
        """Why the committed weights file fails verification, or None.

        It is read back from a fresh export of the new commit and played, with the
        previous weights, in fresh sandboxes, on held-out seeds no earlier step
        used; its mean must beat theirs by more than the margin.
        """
        assert self.incumbent is not None  # set before any commit
        tree = self.snapshot()
        try:
            committed = load_weights(tree / self.config.weights)
        except WeightsFileError as exc:
            return self.unloadable(exc, tree)
        new = NamedWeights(committed.tensors, self.kwargs(committed.policy_kwargs))
        seeds = self.seeds["verification"]
        # The spare sandboxes loaded the cycle's own export: they serve if the commit is
        # its base plus the weights alone (weights always travel as data).
        sha = self.counters.commit
        same_code = sha is not None and self.ledger.parent(sha) == self.base
        with self.sandboxes.use(self.sandboxes.for_verification(tree, self.task, same_code)):
            done = self.play([new, self.incumbent], seeds)
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
