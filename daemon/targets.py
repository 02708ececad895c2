"""Target files: ``targets/NAME.toml`` parsed once into frozen, validated specs.

Two kinds share the common fields (name, repo, example, schedule, trigger,
sandbox, author): a ``code`` target (the default when ``kind`` is left out) names
the files that may be rewritten and the tests that judge them; a ``weights``
target names a gymnasium environment, a torch policy class and the weights file
that evolution may replace (see docs/weights.md).

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
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from policies.roi import DEFAULT_ALPHA
from policies.trigger import QOptions
from sandbox.errors import LimitError
from sandbox.job import Limits, parse_duration

from .errors import Error

if TYPE_CHECKING:  # numpy and the neuroevolution library load only when a weights target does
    from policies.neuro.config import EvolutionConfig
    from policies.neuro.structure import StructureOptions

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
ENTRY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
WEIGHTS_SUFFIXES = (".safetensors", ".pt", ".pth")
KINDS = ("code", "weights")
MIN_HOLDOUT = 30
"""Held-out episodes acceptance needs at least (`policies.neuro.accept.MIN_EPISODES`)."""


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


class CodeTarget(_Target):
    """A Python module in a git repository with a pytest suite."""

    kind: Literal["code"] = "code"
    files: tuple[str, ...] = Field(min_length=1)
    """Globs, relative to the repo, of what may be rewritten; tests never are."""
    tests: tuple[str, ...] = ("tests",)
    """pytest arguments, relative to the repo."""
    held_out: tuple[str, ...] = ()
    """pytest arguments run only when verifying an accepted change."""
    budget: Budget = Budget()
    search: SearchSpec = SearchSpec()


class EvaluationSpec(_Strict):
    """How weights are scored: episodes per genome, held-out episodes, episode length."""

    episodes: int = Field(5, ge=1, le=1000)
    """Training episodes per genome and generation (seeds drawn afresh each generation)."""
    holdout: int = Field(100, ge=MIN_HOLDOUT, le=10_000)
    """Held-out episodes (seeds never trained on) that decide acceptance, and as many again
    that verify a commit."""
    validation: int = Field(20, ge=0, le=1000)
    """Held-out episodes that pick the candidate among the run's finalists (0: the champion)."""
    max_steps: int | None = Field(None, gt=0)
    """Cut episodes at this many steps; unset keeps the environment's own limit."""


class StructureSpec(_Strict):
    """Structural growth and pruning of the hidden layers (`policies.neuro.structure`)."""

    add_neuron: float = Field(0.05, ge=0, le=1)
    """Probability that a child gains a neuron in a random hidden layer."""
    remove_neuron: float = Field(0.05, ge=0, le=1)
    """Probability that a child loses its least used neuron of a random hidden layer."""
    add_layer: float = Field(0.01, ge=0, le=1)
    remove_layer: float = Field(0.01, ge=0, le=1)
    max_width: int = Field(64, ge=1)
    max_layers: int = Field(3, ge=0)
    parsimony: float = Field(0.0, ge=0)
    """Training return removed per policy parameter: a larger network must earn its keep."""

    @model_validator(mode="after")
    def _probabilities(self) -> StructureSpec:
        edits = (self.add_neuron, self.remove_neuron, self.add_layer, self.remove_layer)
        if sum(edits) > 1:
            raise ValueError(f"the four edit probabilities must sum to <= 1, got {sum(edits):g}")
        return self

    def options(self) -> StructureOptions:
        """The library's options."""
        from policies.neuro.structure import StructureOptions

        return StructureOptions(**self.model_dump())


class EvolutionSpec(_Strict):
    """How a weights target's population is searched (`policies.neuro.config`)."""

    method: Literal["dualmixture", "gaussian", "es"] = "dualmixture"
    """dualmixture: self-referential mutators; gaussian: plain mutation; es: OpenAI-ES."""
    population: int = Field(32, ge=3, le=10_000)
    seed: int = 0
    """Seeds each run, together with the number of the cycle that starts it."""
    elite: int = Field(2, ge=0)
    """Best genomes copied unchanged into the next generation."""
    parents: float = Field(0.25, gt=0, le=1)
    """Fraction of each species, best first, that may have children."""
    crossover: float = Field(0.0, ge=0, le=1)
    """Probability of a two-parent child (learned crossover with dualmixture)."""
    speciation: bool = False
    """Learned speciation by the genomes' compatibility networks."""
    structure: StructureSpec | None = None
    """Grow and prune hidden layers; leave the table out to keep the shape fixed."""
    sigma: float = Field(0.05, gt=0)
    """Mutation sigma (gaussian) or perturbation sigma (es)."""
    lr: float = Field(0.03, gt=0)
    """Step size (es)."""

    @model_validator(mode="after")
    def _consistent(self) -> EvolutionSpec:
        if self.elite >= self.population:
            raise ValueError(f"elite {self.elite} must be below population {self.population}")
        if self.method == "es" and (self.structure or self.speciation or self.crossover):
            raise ValueError(
                "method 'es' has a fixed shape and no genomes to cross: use dualmixture or "
                "gaussian for structure, speciation or crossover"
            )
        return self

    def config(self, **run: Any) -> EvolutionConfig:
        """The library's settings, with the run's budget and seed (`run`) added."""
        from policies.neuro.config import EvolutionConfig

        values = self.model_dump(exclude={"structure"})
        structure = self.structure.options() if self.structure else None
        try:
            return EvolutionConfig(**{**values, "structure": structure, **run})
        except ValueError as exc:
            raise ValueError(str(exc)) from None


class WeightsBudget(_Strict):
    """What one cycle of a weights target may spend on evolution: the first limit reached."""

    generations: int | None = Field(30, gt=0, le=1_000_000)
    seconds: Duration = 600.0
    """Wall-clock seconds of evolution, over every resumption of an interrupted run."""
    env_steps: int | None = Field(None, gt=0)
    stop_at: float | None = None
    """Stop early once a generation's best training return reaches this (a solved task)."""


class AcceptanceSpec(_Strict):
    """When new weights replace the committed ones (`policies.neuro.accept`)."""

    margin: float = Field(0.0, ge=0)
    """Return the new weights must gain beyond the noise (lower confidence bound > margin)."""
    z: float = Field(1.96, gt=0)
    """Width of that bound in standard errors (1.96: about 97.5% one-sided)."""


def _entry(value: Any) -> str:
    if not isinstance(value, str) or not ENTRY.match(value):
        raise ValueError(f"expected 'module:Class' (e.g. 'policy:Policy'), got {value!r}")
    return value


def _weights_path(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a path inside the repository, got {value!r}")
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or not path.name:
        raise ValueError(f"expected a path inside the repository, got {value!r}")
    if path.suffix not in WEIGHTS_SUFFIXES:
        raise ValueError(
            f"expected a {', '.join(WEIGHTS_SUFFIXES)} file (safetensors, or a torch "
            f"state dict with a .json metadata file beside it), got {value!r}"
        )
    return str(path)


class WeightsTarget(_Target):
    """A torch policy whose weights are evolved on a gymnasium environment."""

    kind: Literal["weights"]
    env: str = Field(min_length=1, pattern=r"^\S+$")
    """A gymnasium environment id, e.g. ``CartPole-v1``."""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of ``gymnasium.make``."""
    policy: Annotated[str, BeforeValidator(_entry)]
    """The torch module, ``module:Class`` in the repository, built as ``Class(**policy_kwargs)``."""
    policy_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Constructor arguments; a weights file's own ``policy_kwargs`` metadata overrides them."""
    weights: Annotated[str, BeforeValidator(_weights_path)]
    """The weights file the target owns, relative to the repo (created by the first commit)."""
    schedule: Schedule = Schedule(every=3600.0)
    trigger: TriggerSpec = TriggerSpec(policy="change-rule")
    sandbox: SandboxSpec = SandboxSpec(memory="1g", timeout="300s", parallel=2)
    evaluation: EvaluationSpec = EvaluationSpec()
    budget: WeightsBudget = WeightsBudget()
    evolution: EvolutionSpec = EvolutionSpec()
    acceptance: AcceptanceSpec = AcceptanceSpec()

    @property
    def metadata(self) -> str | None:
        """The metadata file beside a torch state dict (``.json``); None for safetensors."""
        if self.weights.endswith(".safetensors"):
            return None
        return str(PurePosixPath(self.weights).with_suffix(".json"))

    @property
    def owned(self) -> list[str]:
        """The files the target's commits write: the weights, and their metadata if separate."""
        return [self.weights, *([self.metadata] if self.metadata else [])]


TargetConfig = CodeTarget | WeightsTarget
MODELS: dict[str, type[CodeTarget] | type[WeightsTarget]] = {
    "code": CodeTarget,
    "weights": WeightsTarget,
}


@dataclass(frozen=True)
class TargetSpec:
    """A validated target and where it came from."""

    config: TargetConfig
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
    kind = raw.get("kind", "code")
    if kind not in MODELS:
        raise TargetError(
            path, "kind", f"expected {' or '.join(repr(k) for k in KINDS)}, got {kind!r}"
        )
    try:
        config = MODELS[kind].model_validate(raw)
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


def render(config: TargetConfig) -> str:
    """A target as TOML text (`nmctl targets add` and `show`): what reads back to `config`."""

    def value(v: Any) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
        return repr(v)

    def key(k: str) -> str:
        return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else value(k)

    def table(name: str, data: dict[str, Any]) -> list[str]:
        plain = {k: v for k, v in data.items() if not isinstance(v, dict)}
        lines = ["", f"[{name}]", *(f"{k} = {value(v)}" for k, v in plain.items())]
        for key, v in data.items():
            if isinstance(v, dict):
                lines += table(f"{name}.{key}", v)
        return lines

    data = config.model_dump(exclude_defaults=True, exclude_none=True, exclude={"schedule"})
    free = {"env_kwargs", "policy_kwargs"}  # arguments, not tables of ours: written inline
    lines = [
        f"{key} = {value(v)}" for key, v in data.items() if not isinstance(v, dict) or key in free
    ]
    schedule = config.schedule
    if schedule.cron:
        lines.append(f"schedule = {{ cron = {value(schedule.cron)} }}")
    else:
        lines.append(f'schedule = {{ every = "{int(schedule.every)}s" }}')
    for key, v in data.items():
        if isinstance(v, dict) and key not in free:
            lines += table(key, v)
    return "\n".join(lines) + "\n"
