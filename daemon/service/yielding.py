"""Which scheduled cycles hand their slot to forced requests waiting for one.

A person who asks for a cycle is waiting for it; a scheduled cycle is not
watched by anyone. So when forced requests wait and every slot is taken, as
many scheduled cycles as needed are asked to yield: first one of the forced
request's own target (the forced cycle takes up its work: a weights run
resumes from the same checkpoint), then weights cycles (they stop at their
next generation checkpoint and lose nothing), the longest-running first (it
has had the most of its turn), then code cycles (they stop after their batch
and rerun later). Forced cycles never yield.
"""

from __future__ import annotations

from collections.abc import Sequence

from daemon.service.requests import Request, Slot


def yield_order(slot: Slot) -> tuple[bool, float]:
    """Sort key of the cycles that may yield: weights first, then the longest-running."""
    return (slot.request.kind != "weights", slot.started)


def choose_yields(
    waiting: Sequence[Request], running: Sequence[Slot], slots: int
) -> list[tuple[Slot, Request]]:
    """The running cycles to ask to yield now, so that each waiting forced request gets a slot.

    Args:
        waiting: the queue, in its order (forced requests first).
        running: the cycles holding slots; those already yielding count as slots coming free.
        slots: how many cycles may run at once.

    Returns:
        Scheduled cycles not yet asked, each with the forced request it makes room for.
    """
    free = slots - len(running)
    coming = sum(1 for s in running if s.stop.yielding)
    candidates = sorted((s for s in running if not s.request.forced), key=yield_order)
    chosen: list[tuple[Slot, Request]] = []
    for request in (r for r in waiting if r.forced):
        own = next((s for s in running if s.target == request.target), None)
        if own is not None:  # it cannot run beside its own target's cycle
            if not own.request.forced and not own.stop.yielding and not _taken(own, chosen):
                chosen.append((own, request))
            elif own.stop.yielding:
                coming -= 1
            continue
        if free > 0:
            free -= 1
        elif coming > 0:
            coming -= 1
        else:
            pick = next(
                (s for s in candidates if not s.stop.yielding and not _taken(s, chosen)), None
            )
            if pick is None:
                break  # every slot is a forced cycle's: wait in turn
            chosen.append((pick, request))
    return chosen


def _taken(slot: Slot, chosen: Sequence[tuple[Slot, Request]]) -> bool:
    return any(slot is other for other, _ in chosen)
