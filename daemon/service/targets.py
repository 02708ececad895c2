"""A target as nmd tracks it between cycles: paused, running, its failures and back-off."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from daemon.registry import TargetSpec

log = logging.getLogger("nmd")

BACKOFF_SECONDS = (60.0, 300.0, 1800.0)
"""After 1, 2, 3+ crashed cycles in a row, a target waits this long before the next."""


@dataclass
class TargetState:
    """What the daemon tracks of one target between ticks."""

    spec: TargetSpec
    paused: bool = False
    running: bool = False
    failures: int = 0
    not_before: float = 0.0
    last: dict[str, Any] | None = None

    def back_off(self) -> None:
        """Count one more failed cycle, and keep ticks off the target for a while."""
        self.failures += 1
        pause = BACKOFF_SECONDS[min(self.failures, len(BACKOFF_SECONDS)) - 1]
        self.not_before = time.monotonic() + pause
        log.warning(
            "%s: backing off %.0fs after %d failed cycle(s)", self.spec.name, pause, self.failures
        )


def missing_repository(spec: TargetSpec) -> str | None:
    """Why `spec`'s repository cannot be had: missing, and no example to make it from."""
    if spec.repo.exists() or spec.example is not None:
        return None
    return (
        f"{spec.name}: its repository {spec.repo} is missing "
        "(and it has no example to recreate it from)"
    )
