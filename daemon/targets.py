"""Target files: ``targets/NAME.toml`` parsed once into frozen, validated specs.

A bad file is an error that names the file, the field and what was expected;
unknown keys are errors too. One bad file never hides the others: the registry
keeps every valid target and reports the rest.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from policies.roi import DEFAULT_ALPHA
from policies.trigger import QOptions
from sandbox.errors import LimitError
from sandbox.job import Limits, parse_duration

from .errors import Error

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


class TargetError(Error):
    """A target file is missing, unreadable, not TOML, or fails validation."""

    def __init__(self, path: Path | str, field: str | None, message: str) -> None:
        where = f"{path}: {field}: " if field else f"{path}: "
        super().__init__(where + message)
        self.path = str(path)
        self.field = field


class UnknownTarget(Error):
    """No target has this name; suggests the closest names."""

    def __init__(self, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listed = ", ".join(sorted(known)) or "none"
        super().__init__(f"no target named {name!r} (registered: {listed}).{hint}")
        self.name = name


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


class CodeTarget(_Strict):
    """A Python module in a git repository with a pytest suite."""

    name: str
    kind: Literal["code"] = "code"
    repo: str
    """Git repository of the bot, relative to the target file; ``{state}`` is the state dir."""
    example: str | None = None
    """A directory (relative to the target file) copied into `repo` when it does not exist."""
    files: tuple[str, ...] = Field(min_length=1)
    """Globs, relative to the repo, of what may be rewritten; tests never are."""
    tests: tuple[str, ...] = ("tests",)
    """pytest arguments, relative to the repo."""
    held_out: tuple[str, ...] = ()
    """pytest arguments run only when verifying an accepted change."""
    schedule: Schedule = Schedule(every=900.0)
    budget: Budget = Budget()
    search: SearchSpec = SearchSpec()
    trigger: TriggerSpec = TriggerSpec()
    sandbox: SandboxSpec = SandboxSpec()
    author: Author = Author()

    @model_validator(mode="after")
    def _name(self) -> CodeTarget:
        if not NAME.match(self.name):
            raise ValueError(
                f"name {self.name!r} must be lower-case letters, digits, '-' or '_', "
                "starting with a letter"
            )
        return self


@dataclass(frozen=True)
class TargetSpec:
    """A validated target and where it came from."""

    config: CodeTarget
    source: Path
    """The target file."""
    repo: Path
    """The bot's git repository, resolved."""
    example: Path | None = None

    @property
    def name(self) -> str:
        """The target's name."""
        return self.config.name


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-")) or None


def _message(error: Mapping[str, Any]) -> str:
    kind, msg, value = error["type"], error["msg"], error.get("input")
    if kind == "extra_forbidden":
        return "unknown key (check its spelling, or remove it)"
    if kind == "missing":
        return "missing: this field is required"
    msg = msg.removeprefix("Value error, ")
    if kind in ("value_error", "assertion_error"):
        return msg
    return f"{msg[0].lower()}{msg[1:]}, got {value!r}"


def load_target(path: Path, state: Path) -> TargetSpec:
    """Read and validate one target file.

    Raises:
        TargetError: naming the file, the field and what was expected.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as exc:
        raise TargetError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(path, None, f"not valid TOML: {exc}") from exc
    try:
        config = CodeTarget.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise TargetError(path, _field(first["loc"]), _message(first)) from None
    if config.name != path.stem:
        raise TargetError(path, "name", f"{config.name!r} must match the file name {path.stem!r}")
    base = path.parent
    repo = Path(config.repo.replace("{state}", str(state)))
    example = (base / config.example).resolve() if config.example else None
    if example is not None and not example.is_dir():
        raise TargetError(path, "example", f"{example} is not a directory")
    return TargetSpec(config, path, (base / repo).resolve(), example)


@dataclass
class Registry:
    """Every valid target of a folder, and the errors of the others."""

    folder: Path
    targets: dict[str, TargetSpec] = field(default_factory=dict)
    errors: dict[Path, TargetError] = field(default_factory=dict)

    def get(self, name: str) -> TargetSpec:
        """The target called `name`, or `UnknownTarget` with suggestions."""
        if name in self.targets:
            return self.targets[name]
        broken = [e for p, e in self.errors.items() if p.stem == name]
        if broken:
            raise broken[0]
        raise UnknownTarget(name, [*self.targets, *(p.stem for p in self.errors)])


def load_registry(folder: Path, state: Path) -> Registry:
    """Load every ``*.toml`` of `folder`; bad files go to `errors`, the rest still load."""
    registry = Registry(Path(folder))
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            spec = load_target(path, state)
        except TargetError as exc:
            registry.errors[path] = exc
            continue
        registry.targets[spec.name] = spec
    return registry


def render(config: CodeTarget) -> str:
    """A target as TOML text, for `nmctl targets add`."""

    def value(v: Any) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    data = config.model_dump(exclude_defaults=True, exclude={"schedule"})
    lines = [f"{key} = {value(v)}" for key, v in data.items() if not isinstance(v, dict)]
    schedule = config.schedule
    if schedule.cron:
        lines.append(f"schedule = {{ cron = {value(schedule.cron)} }}")
    else:
        lines.append(f'schedule = {{ every = "{int(schedule.every)}s" }}')
    for table, v in data.items():
        if isinstance(v, dict):
            lines += ["", f"[{table}]", *(f"{k} = {value(x)}" for k, x in v.items())]
    return "\n".join(lines) + "\n"
