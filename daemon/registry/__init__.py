"""The target registry: target files (``targets/NAME.toml``) as frozen, validated specs."""

from daemon.errors import TargetError, UnknownTarget
from daemon.registry.code import CodeTarget
from daemon.registry.load import (
    KINDS,
    Registry,
    TargetConfig,
    TargetSpec,
    load_registry,
    load_target,
    score_unit,
)
from daemon.registry.render import render
from daemon.registry.weights import MIN_HOLDOUT, WeightsTarget

__all__ = [
    "KINDS",
    "MIN_HOLDOUT",
    "CodeTarget",
    "Registry",
    "TargetConfig",
    "TargetError",
    "TargetSpec",
    "UnknownTarget",
    "WeightsTarget",
    "load_registry",
    "load_target",
    "render",
    "score_unit",
]
