"""What a running cycle tells its watchers: small frozen events, not strings and kwargs.

A cycle calls its `Progress` callback with one of these; the control socket
carries them as JSON objects with a ``kind`` (`to_dict`, `from_dict`), and
`nmctl cycle` draws them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Phase:
    """The cycle entered a phase: baseline, mutations, evolve, commit, verify..."""

    name: str
    kind = "phase"


@dataclass(frozen=True)
class Evaluated:
    """Code candidates evaluated so far, of the most the cycle will try, and the best score."""

    done: int
    total: int
    best: float
    kind = "evaluated"


@dataclass(frozen=True)
class Generation:
    """One finished generation of a weights cycle's evolution."""

    generation: int
    total: int | None
    best: float | None
    mean: float | None
    best_so_far: float | None
    env_steps: int
    wall_time: float
    escape_p: float | None = None
    """DualMixture's evolved escape probability (None for other methods)."""
    kind = "generation"


Event = Phase | Evaluated | Generation
Progress = Callable[[Event], None]
KINDS: dict[str, type[Phase] | type[Evaluated] | type[Generation]] = {
    cls.kind: cls for cls in (Phase, Evaluated, Generation)
}


def to_dict(event: Event) -> dict[str, Any]:
    """The event as JSON-ready data with its ``kind``."""
    return {"kind": event.kind, **dataclasses.asdict(event)}


def from_dict(data: dict[str, Any]) -> Event | None:
    """An event read back from `to_dict`'s data; None for a kind this version does not know."""
    cls = KINDS.get(str(data.get("kind")))
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def ignore(event: Event) -> None:
    """A `Progress` that drops every event."""
