"""The sections every target file shares, and the base of every kind of target.

A target file is parsed once into a frozen pydantic model: unknown keys are
refused, and each error names the field (`daemon.registry.load` adds the file).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from policies.roi import DEFAULT_ALPHA
from policies.trigger import QOptions
from sandbox.errors import LimitError
from sandbox.job import Limits, parse_duration

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def _duration(value: Any) -> float:
    try:
        return parse_duration(value, "duration")
    except LimitError as exc:
        raise ValueError(f"expected a duration such as '15m' or '60s', got {value!r}") from exc


Duration = Annotated[float, BeforeValidator(_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(_Strict):
    """When the scheduler ticks the target: every interval, or on a cron expression."""

    every: Duration | None = None
    cron: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Schedule:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every' ('15m') or 'cron' ('0 3 * * *')")
        if self.cron is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(self.cron)
            except ValueError as exc:
                raise ValueError(f"cron {self.cron!r} is not a crontab expression: {exc}") from None
        return self


class Budget(_Strict):
    """What one cycle may spend."""

    candidates: int = Field(64, gt=0, le=100_000)
    seconds: Duration = 300.0


class SearchSpec(_Strict):
    """In which order a cycle tries its mutations (see `policies.ordering`)."""

    order: Literal["learned", "random", "plain"] = "learned"
    """learned: fault localisation and operator preferences; random; plain enumeration."""
    seed: int = 0
    """Seeds the order's shuffles, together with the cycle number: reruns repeat."""
    patience: int = Field(50, ge=0)
    """Candidates tried past the first improving one, in search of a better one."""


class TriggerSpec(_Strict):
    """When a scheduled tick runs a cycle, and with what budget (see docs/policy.md)."""

    policy: Literal["q-learning", "change-rule"] = "q-learning"
    """q-learning: learned from the ROI cycles earn; change-rule: act when the target changed."""
    alpha: float = Field(DEFAULT_ALPHA, gt=0, le=1)
    """Weight of the newest cycle in the ROI moving average."""
    hurdle: float = Field(QOptions.hurdle, ge=0)
    """ROI (score per sandbox minute) a cycle must beat to be worth its sandbox time."""
    epsilon: float = Field(QOptions.epsilon, ge=0, le=1)
    """Chance of a random action at first; it decays by `decay` at every decision."""
    decay: float = Field(QOptions.decay, gt=0, le=1)
    seed: int = QOptions.seed
    """Seeds exploration, with the decision count: decisions are reproducible."""

    def options(self) -> QOptions:
        """The Q-learning options this table sets."""
        return QOptions(hurdle=self.hurdle, epsilon=self.epsilon, decay=self.decay, seed=self.seed)


class SandboxSpec(_Strict):
    """Limits of each candidate's sandbox run."""

    memory: str = "512m"
    cpus: float = Field(1.0, gt=0)
    pids: int = Field(256, gt=0)
    timeout: str = "60s"
    parallel: int = Field(1, gt=0, le=64)
    """Sandboxes (batches) evaluated at once."""
    batch: int = Field(16, gt=0, le=1000)
    """Candidates per batch: one container, a fork per candidate."""

    @model_validator(mode="after")
    def _limits_parse(self) -> SandboxSpec:
        self.limits()
        return self

    def limits(self) -> Limits:
        """The sandbox limits of one candidate."""
        try:
            return Limits.parse(
                {
                    "memory": self.memory,
                    "cpus": self.cpus,
                    "pids": self.pids,
                    "timeout": self.timeout,
                }
            )
        except LimitError as exc:
            raise ValueError(str(exc)) from exc


class Author(_Strict):
    """The identity of the commits Neuromutant makes."""

    name: str = "Neuromutant"
    email: str = "neuromutant@localhost"


class _Target(_Strict):
    """What every kind of target has: a name, a git repository, a schedule, limits."""

    name: str
    repo: str
    """Git repository of the bot, relative to the target file; ``{state}`` is the state dir."""
    example: str | None = None
    """A directory (relative to the target file) copied into `repo` when it does not exist."""
    schedule: Schedule = Schedule(every=900.0)
    trigger: TriggerSpec = TriggerSpec()
    sandbox: SandboxSpec = SandboxSpec()
    author: Author = Author()

    @model_validator(mode="after")
    def _name(self) -> _Target:
        if not NAME.match(self.name):
            raise ValueError(
                f"name {self.name!r} must be lower-case letters, digits, '-' or '_', "
                "starting with a letter"
            )
        return self
