"""What a cycle did: typed counters while it runs, a report when it ends."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from policies.status import CycleStatus


@dataclass
class Counters:
    """What a cycle has measured and done so far; every kind fills in its share."""

    baseline_score: float | None = None
    """The committed code's score (code: fraction of tests; weights: held-out return)."""
    best_score: float | None = None
    candidates: int = 0
    """Candidates (code) or genomes (weights) evaluated."""
    sandbox_seconds: float = 0.0
    commit: str | None = None
    revert: str | None = None
    mutation: dict[str, Any] | None = None
    """The committed mutation of a code cycle (`policies.codemods.Mutation.to_dict`)."""
    evolution: dict[str, Any] | None = None
    """A weights cycle's run: method, generations, env steps, run directory and curve."""
    objective: dict[str, Any] | None = None
    """A tuning cycle's objective: kind, unit, the climb's steps, held-out runs, env steps."""


@dataclass
class CycleReport:
    """What one cycle did, for `nmctl cycle`, the daemon's log and the learning step."""

    target: str
    cycle: int
    status: CycleStatus
    reason: str
    baseline_score: float | None = None
    best_score: float | None = None
    candidates: int = 0
    sandbox_seconds: float = 0.0
    commit: str | None = None
    revert: str | None = None
    mutation: dict[str, Any] | None = None
    seconds: float = 0.0
    recovered: list[str] = field(default_factory=list)
    evolution: dict[str, Any] | None = None
    objective: dict[str, Any] | None = None

    @classmethod
    def of(
        cls,
        target: str,
        cycle: int,
        status: CycleStatus,
        reason: str,
        counters: Counters,
        seconds: float,
    ) -> CycleReport:
        """The report of a cycle that ended with `status` for `reason`."""
        return cls(target, cycle, status, reason, seconds=seconds, **asdict(counters))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the status as its string)."""
        return {**asdict(self), "status": str(self.status)}
