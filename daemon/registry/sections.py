"""The sections every target file shares, and the base of every kind of target.

A target file is parsed once into a frozen pydantic model: unknown keys are
refused, and each error names the field (`daemon.registry.load` adds the file).
"""

from __future__ import annotations

import functools
import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from policies.roi import DEFAULT_ALPHA
from policies.trigger import QOptions
from sandbox.errors import LimitError
from sandbox.job import Limits, parse_duration, parse_size

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
NAME_RULE = (
    "use lower-case letters, digits, '-' or '_', starting with a letter, at most 63 characters"
)
"""What `NAME` accepts, in words: for error messages and `nmctl targets add --help`."""
DAY = 86_400.0
MAX_CYCLE_SECONDS = DAY
"""A cycle's budget, or one sandbox run's timeout, beyond a day is a typo (or `inf`)."""
MAX_INTERVAL_SECONDS = 366 * DAY
MAX_CPUS = 64.0
"""Cores one sandbox may have. A fixed bound, not this machine's count, so that a file
valid here is valid on the daemon's host too; `nmctl targets check` warns when the
value is more than this machine has (Docker refuses that at run time)."""
MIN_CPUS = 0.01
"""Docker's own smallest CPU quota."""
MIN_MEMORY = 64 * 2**20
"""Below 64 MiB Python and pytest cannot even start: every run would fail as a crash."""


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g}h"


def _duration(value: Any, most: float = MAX_INTERVAL_SECONDS) -> float:
    try:
        seconds = parse_duration(value, "duration")
    except LimitError as exc:
        raise ValueError(f"expected a duration such as '15m' or '60s', got {value!r}") from exc
    if not math.isfinite(seconds) or seconds > most:
        raise ValueError(
            f"expected a duration such as '15m' or '60s' of at most {_hours(most)}, got {value!r}"
        )
    return seconds


Duration = Annotated[float, BeforeValidator(_duration)]
"""A positive, finite duration of at most a year (a schedule's interval)."""
CycleDuration = Annotated[
    float, BeforeValidator(functools.partial(_duration, most=MAX_CYCLE_SECONDS))
]
"""A positive, finite duration of at most a day (what one cycle may spend)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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

    seconds: CycleDuration = 300.0
    """Sandbox seconds the cycle's candidates may take, summed over its parallel sandboxes.
    At the measured rate of small targets (several candidates per sandbox second), the
    default fits every mutation of a module of a few hundred lines."""
    candidates: int = Field(10_000, gt=0, le=100_000)
    """A cap on the candidates tried, whatever time is left."""


class SearchSpec(_Strict):
    """In which order a cycle tries its mutations (see `policies.ordering`)."""

    order: Literal["learned", "random", "plain"] = "learned"
    """learned: fault localisation and operator preferences; random; plain enumeration."""
    seed: int = 0
    """Seeds the order's shuffles, together with the cycle number: reruns repeat."""
    patience: int = Field(50, ge=0)
    """Candidates tried past the first improving one, in search of a better one."""
    alternatives: int = Field(0, ge=0, le=10_000)
    """Candidates tried past the batch of the first repair, for other repairs to choose
    from (least new code wins); measured on HumanEvalFix, 64 more bought 2 exact fixes
    in 164 at four times the candidates, so none by default (docs/benchmarks.md)."""


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
    cpus: float = 1.0
    pids: int = Field(256, gt=0)
    timeout: str = "60s"
    test_timeout: str = "5s"
    """The longest one test may run at baseline; longer fails that test alone. Candidates
    get ten times the baseline's slowest test, at least a second, at most this."""
    parallel: int = Field(1, gt=0, le=64)
    """Sandboxes (batches) evaluated at once."""
    batch: int = Field(16, gt=0, le=1000)
    """Candidates per batch: one container, a fork per candidate."""
    where: Literal["local", "cluster"] = "local"
    """local: this machine's sandboxes; cluster: the Ray cluster's nodes, each in its own
    Docker sandbox, as many at once as it has CPUs (see docs/cluster.md)."""

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        try:
            size = parse_size(value, "memory")
        except LimitError:
            return value  # `_limits_parse` says what is expected
        if size < MIN_MEMORY:
            raise ValueError(
                f"{value!r} is too little memory for Python and pytest to start: "
                f"give at least {MIN_MEMORY // 2**20}m"
            )
        return value

    @field_validator("cpus")
    @classmethod
    def _cpus(cls, value: float) -> float:
        if not MIN_CPUS <= value <= MAX_CPUS:
            raise ValueError(
                f"expected {MIN_CPUS:g} to {MAX_CPUS:g} cores per sandbox, got {value:g}"
            )
        return value

    @field_validator("timeout", "test_timeout")
    @classmethod
    def _timeout(cls, value: str, info: ValidationInfo) -> str:
        try:
            seconds = parse_duration(value, info.field_name or "timeout")
        except LimitError:
            return value  # `_limits_parse` says what is expected
        if not math.isfinite(seconds) or seconds > MAX_CYCLE_SECONDS:
            raise ValueError(
                f"expected a timeout such as '60s' of at most {_hours(MAX_CYCLE_SECONDS)}, "
                f"got {value!r}"
            )
        return value

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
                    "test_timeout": self.test_timeout,
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

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError(f"{value!r}: {NAME_RULE}")
        return value
