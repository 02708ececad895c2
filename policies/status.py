"""How a cycle ended: the one vocabulary the daemon records and the policies learn from.

It lives here, below the daemon, because `policies.roi` and `policies.trigger`
reason about statuses and may not import `daemon`.
"""

from __future__ import annotations

import enum


class CycleStatus(enum.StrEnum):
    """The status of a cycle, as stored in the ``cycles`` table."""

    RUNNING = "running"
    """Not ended yet (or its process died: the store then marks it interrupted)."""
    ACCEPTED = "accepted"
    """A change was committed and passed verification."""
    REJECTED = "rejected"
    """It searched and found no change worth committing; nothing was touched."""
    REVERTED = "reverted"
    """A change was committed, failed verification, and was reverted (history kept)."""
    WAITING = "waiting"
    """Uncommitted human edits (or a moved branch) stopped it before any commit."""
    STOPPED = "stopped"
    """The daemon was stopping: no new batch started and nothing was committed."""
    ERROR = "error"
    """The target or the sandbox could not be used; the reason says which."""
    INTERRUPTED = "interrupted"
    """Its process died mid-cycle (found at the next start)."""


SEARCHED = frozenset(
    {CycleStatus.ACCEPTED, CycleStatus.REJECTED, CycleStatus.REVERTED, CycleStatus.ERROR}
)
"""Statuses of cycles that spent their budget searching: they have an ROI."""
FAILED = frozenset({CycleStatus.ERROR, CycleStatus.REVERTED})
"""Statuses that count as failures (the trigger's failure streak, the daemon's back-off)."""
