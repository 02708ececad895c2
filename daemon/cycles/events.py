"""What a running cycle tells its watchers: small frozen events, not strings and kwargs.

A cycle calls its `Progress` callback with one of these; the control socket
carries them as JSON objects with a ``kind`` (`to_dict`, `from_dict`), and
`nmctl cycle` draws them. `Queued` and `Started` are the daemon's, not the
cycle's: a forced cycle's client hears at once that it waits, and why.
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


@dataclass(frozen=True)
class Queued:
    """The request waits for a slot: how many requests go first, and what holds the slots."""

    ahead: int
    detail: str
    """One line for a person, e.g. "1 ahead (lander, generation 23/60, started 3 min ago)"."""
    kind = "queued"


@dataclass(frozen=True)
class Started:
    """The request got its slot after `waited` seconds in the queue; its cycle starts now."""

    waited: float
    kind = "started"


Event = Phase | Evaluated | Generation | Queued | Started
Progress = Callable[[Event], None]
KINDS: dict[str, type[Event]] = {
    cls.kind: cls for cls in (Phase, Evaluated, Generation, Queued, Started)
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
