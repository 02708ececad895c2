"""What "better" means for a code target: its tests, a gym return, or a measured metric.

``[objective]`` in a code target's file. Whatever the kind, the target's pytest
suite must pass in full: a candidate that breaks a test is never scored. With
``kind = "tests"`` (the default) the score is the fraction of tests passing and
a cycle repairs; with ``gym`` or ``metric`` the score is a return or a measured
value, and a cycle tunes (see docs/objectives.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from daemon.registry.sections import _duration, _Strict
from policies.neuro.accept import MIN_EPISODES
from sandbox.runners.objective import ENTRY

MAX_SCORING_SECONDS = 3600.0

ScoringDuration = Annotated[
    float, BeforeValidator(lambda value: _duration(value, most=MAX_SCORING_SECONDS))
]
"""How long scoring one candidate may take: a duration of at most an hour."""


def _entry(value: str) -> str:
    if not ENTRY.match(value):
        raise ValueError(
            f"{value!r}: expected 'module:name' importable from the repository, "
            "e.g. 'pilot.controller:act'"
        )
    return value


class TestsObjective(_Strict):
    """Repair: the score is the fraction of the runnable tests that pass."""

    __test__ = False  # a configuration, not a test class

    kind: Literal["tests"] = "tests"

    @property
    def unit(self) -> str:
        """What a score is: the fraction of runnable tests passing."""
        return "tests"


class _Scored(_Strict):
    """What the gym and metric kinds share: an entry point, acceptance, a time limit."""

    entry: str
    """``module:name`` in the target's code, imported from the candidate's tree."""
    finalists: int = Field(3, ge=1, le=20)
    """The cycle's best changes re-scored on held-out episodes (or repetitions)."""
    margin: float = Field(0.0, ge=0)
    """How far above the committed code's score, beyond the noise, a change must be."""
    timeout: ScoringDuration = 120.0
    """How long scoring one candidate may take, on top of its tests."""

    @field_validator("entry")
    @classmethod
    def _entry_shape(cls, value: str) -> str:
        return _entry(value)

    @property
    def sign(self) -> float:
        """+1 or -1: scores are maximised internally, minimised metrics negated."""
        return 1.0


class GymObjective(_Scored):
    """The return of episodes played by a policy in the target's code."""

    kind: Literal["gym"]
    env: str = Field(min_length=1)
    """A gymnasium environment id, e.g. 'LunarLander-v3'."""
    episodes: int = Field(20, ge=1, le=1000)
    """Training episodes per candidate: the same seeds for every candidate of a cycle."""
    holdout: int = Field(100, ge=MIN_EPISODES, le=10_000)
    """Unseen episodes that decide acceptance (and as many more verify the commit)."""

    @property
    def unit(self) -> str:
        """What a score is, for reports and commit messages."""
        return "return"


class MetricObjective(_Scored):
    """A float that a function in the target's repository measures."""

    kind: Literal["metric"]
    direction: Literal["maximize", "minimize"] = "maximize"
    repeat: int = Field(5, ge=1, le=1000)
    """Calls per candidate while searching."""
    holdout: int = Field(MIN_EPISODES, ge=MIN_EPISODES, le=10_000)
    """Calls that decide acceptance (and as many more verify the commit)."""

    @property
    def unit(self) -> str:
        """What a score is, for reports and commit messages."""
        return "metric"

    @property
    def sign(self) -> float:
        """-1 for a minimised metric, whose values are negated to be maximised."""
        return 1.0 if self.direction == "maximize" else -1.0


Objective = Annotated[TestsObjective | GymObjective | MetricObjective, Field(discriminator="kind")]
ScoredObjective = GymObjective | MetricObjective
