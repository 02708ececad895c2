"""Target files: ``targets/NAME.toml`` read and validated into `TargetSpec`s.

Two kinds share the common fields (name, repo, example, schedule, trigger,
sandbox, author): a ``code`` target (the default when ``kind`` is left out) names
the files that may be rewritten and the tests that judge them; a ``weights``
target names a gymnasium environment, a torch network class and the weights
file that evolution may replace (see docs/weights.md).

A bad file is an error that names the file, the field and what was expected;
unknown keys are errors too. One bad file never hides the others: the registry
keeps every valid target and reports the rest. A file over `target_file_limit()`
(or not a regular file) is refused unread, so a hostile one costs no memory.
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from daemon.errors import TargetError, UnknownTarget
from daemon.registry.code import CodeTarget
from daemon.registry.weights import WeightsTarget
from sandbox.errors import LimitError
from sandbox.job import parse_size

KINDS = ("code", "weights")
RENAMED: dict[str, dict[str, str]] = {
    "weights": {"policy": "network", "policy_kwargs": "network_kwargs"},
}
"""Keys of each kind that have a new name: the old one is still read, with a warning."""
_warned: set[tuple[str, str]] = set()
TargetConfig = CodeTarget | WeightsTarget
log = logging.getLogger(__name__)
MAX_TARGET_FILE = 256 * 1024
"""The default largest target file, in bytes: real ones are a few hundred bytes."""
TARGET_LIMIT_VARIABLE = "NEUROMUTANT_MAX_TARGET_FILE"
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


OBJECTIVE_KINDS = "'tests', 'gym' or 'metric'"
"""The only tagged union of the target files: ``[objective]``'s kinds, for its errors."""


def score_unit(config: TargetConfig) -> str:
    """What the target's scores (and so its ROI) are counted in: tests, return or metric."""
    if isinstance(config, WeightsTarget):
        return "return"
    return config.objective.unit


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if not str(part).startswith("function-")]
    if len(parts) > 2 and parts[0] == "objective":  # the union's tag: objective.gym.entry
        del parts[1]
    return ".".join(parts) or None


def _message(error: Mapping[str, Any]) -> str:
    kind, msg, value = error["type"], error["msg"], error.get("input")
    if kind == "extra_forbidden":
        return "unknown key (check its spelling, or remove it)"
    if kind == "missing":
        return "missing: this field is required"
    if kind == "union_tag_not_found":
        return f"missing: give its 'kind' ({OBJECTIVE_KINDS})"
    if kind == "union_tag_invalid":
        return f"'kind' must be one of {OBJECTIVE_KINDS}, got {value.get('kind')!r}"
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
        raw = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(path, None, f"not valid TOML: {exc}") from exc
    kind = raw.get("kind", "code")
    if kind not in MODELS:
        raise TargetError(
            path, "kind", f"expected {' or '.join(repr(k) for k in KINDS)}, got {kind!r}"
        )
    raw = _renamed(path, kind, raw)
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


def target_file_limit(path: Path) -> int:
    """The largest target file, in bytes: ``$NEUROMUTANT_MAX_TARGET_FILE``, else 256 KiB.

    Raises:
        TargetError: naming ``path`` and the variable, when it is not a positive size.
    """
    raw = os.environ.get(TARGET_LIMIT_VARIABLE, "").strip()
    if not raw:
        return MAX_TARGET_FILE
    try:
        return parse_size(raw, TARGET_LIMIT_VARIABLE)
    except LimitError:
        raise TargetError(
            path, None, f"${TARGET_LIMIT_VARIABLE}={raw!r}: expected a size such as 262144 or 256k"
        ) from None


def _read(path: Path) -> str:
    """The text of a target file: a regular file, at most `target_file_limit` bytes, UTF-8.

    Raises:
        TargetError: naming the file and, for a file too big, its size and the limit.
    """
    limit = target_file_limit(path)
    try:
        # O_NONBLOCK: a FIFO in the folder must not hang the daemon in open().
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise TargetError(path, None, "not a regular file")
            data = file.read(limit + 1)
    except OSError as exc:
        raise TargetError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        size = max(info.st_size, len(data))
        raise TargetError(
            path,
            None,
            f"{_size(size)} is over the limit of {_size(limit)} for a target file "
            f"(raise ${TARGET_LIMIT_VARIABLE} to allow it)",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TargetError(path, None, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None


def _size(size: int) -> str:
    """``600 bytes``, ``128 KiB``, ``5.0 MiB``: exact when it is a whole number of units."""
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size // scale} {unit}" if size % scale == 0 else f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _renamed(path: Path, kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` with deprecated keys under their new names (a warning once per file and key).

    Raises:
        TargetError: both the old and the new name are given.
    """
    raw = dict(raw)
    for old, new in RENAMED.get(kind, {}).items():
        if old not in raw:
            continue
        if new in raw:
            raise TargetError(path, old, f"give {new!r} only ({old!r} is its old name)")
        raw[new] = raw.pop(old)
        if (str(path), old) not in _warned:
            _warned.add((str(path), old))
            log.warning("%s: %r is deprecated; call it %r", path, old, new)
    return raw


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
