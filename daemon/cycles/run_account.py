"""What a weights cycle writes about its run: commit message, metadata, report account."""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.cycles.events import Generation
from daemon.registry import WeightsTarget
from policies.neuro.accept import Verdict
from policies.neuro.evolve import CURVE_CSV, CURVE_PNG, GenerationRecord, RunResult


@dataclass(frozen=True)
class RunAccount:
    """One accepted or rejected run of a weights target, ready to be told."""

    target: str
    cycle: int
    config: WeightsTarget
    kwargs: dict[str, Any]
    """The chosen network's constructor arguments."""
    verdict: Verdict
    result: RunResult
    archived: Path
    """The finished run's folder (curve and run file)."""
    held: int
    """Held-out episodes of the acceptance test."""

    def metadata(self) -> dict[str, str]:
        """The weights file's metadata."""
        config = self.config
        return {
            "policy": config.network,
            "env": config.env,
            "target": self.target,
            "cycle": str(self.cycle),
            "method": config.evolution.method,
            "generations": str(len(self.result.history)),
            "env_steps": str(self.result.env_steps),
            "holdout_mean": f"{self.verdict.candidate_mean:.4f}",
            "holdout_episodes": str(self.held),
        }

    def subject(self) -> str:
        """The commit's subject line."""
        old, new = self.verdict.incumbent_mean, self.verdict.candidate_mean
        return (
            f"{self.target}: evolved weights, held-out return {old:.1f} -> {new:.1f} "
            f"({self.config.evolution.method}, {len(self.result.history)} generations)"
        )

    def body(self) -> str:
        """The commit's body: the gain and its bound, the method, the network, the curve."""
        config, verdict = self.config, self.verdict
        old, new = verdict.incumbent_mean, verdict.candidate_mean
        arguments = ", ".join(f"{k}={json.dumps(v)}" for k, v in self.kwargs.items())
        gain = (
            f"Mean return over {self.held} held-out episodes of {config.env} (seeds never "
            f"trained on): {old:.2f} -> {new:.2f}; lower bound of the gain "
            f"{verdict.lower_bound:.2f} > margin {config.acceptance.margin}."
        )
        return "\n".join(
            [
                textwrap.fill(gain, 72),
                "",
                f"Method: {config.evolution.method}, population {config.evolution.population}, "
                f"{len(self.result.history)} generations, {self.result.env_steps} environment "
                "steps",
                f"Network: {config.network}({arguments})",
                f"Curve: {self.archived / CURVE_PNG} (and {CURVE_CSV})",
            ]
        )

    def trailers(self) -> dict[str, Any]:
        """The commit's machine-readable trailers."""
        old, new = self.verdict.incumbent_mean, self.verdict.candidate_mean
        return {
            "Method": self.config.evolution.method,
            "Score": f"{old:.2f} -> {new:.2f}",
            "Episodes": self.held,
            "Generations": len(self.result.history),
            "Env-Steps": self.result.env_steps,
        }

    def summary(self) -> dict[str, Any]:
        """The cycle report's account of the run."""
        result = self.result
        return {
            "method": self.config.evolution.method,
            "population": self.config.evolution.population,
            "generations": len(result.history),
            "resumed_at": result.resumed_at,
            "env_steps": result.env_steps,
            "stopped": result.stopped,
            "champion_training_return": finite(result.champion_fitness),
            "holdout_episodes": self.held,
            "lower_bound": finite(self.verdict.lower_bound),
            "policy_kwargs": self.kwargs,
            "run_dir": str(self.archived),
            "curve_csv": str(self.archived / CURVE_CSV),
            "curve_png": str(self.archived / CURVE_PNG),
        }


def finite(value: float | None) -> float | None:
    """JSON-friendly: None for a missing or infinite number."""
    return None if value is None or not math.isfinite(value) else float(value)


def generation_event(record: GenerationRecord, total: int | None) -> Generation:
    """A finished generation as the cycle's progress tells it."""
    return Generation(
        generation=record.generation,
        total=total,
        best=finite(record.best),
        mean=finite(record.mean),
        best_so_far=finite(record.best_so_far),
        env_steps=record.env_steps,
        wall_time=round(record.wall_time, 2),
        escape_p=finite(record.stats.get("escape_p")),
    )
