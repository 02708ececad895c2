"""What nmd tells of its queue: the line a waiting client reads, and the status sections.

A person who asked for a cycle and sees nothing assumes the worst; the queued
line says at once what the request waits for, how far that is, and whether it
was asked to make room.
"""

from __future__ import annotations

import time
from typing import Any

from daemon.service.progress import duration
from daemon.service.requests import Request, Slot


def blocking(request: Request, running: list[Slot], slots: int) -> list[Slot]:
    """The running cycles `request` waits for: all when no slot is free, else its target's."""
    if len(running) >= slots:
        return list(running)
    return [s for s in running if s.target == request.target]


def queued_detail(
    request: Request, ahead: list[Request], running: list[Slot], slots: int
) -> tuple[int, str, tuple[Any, ...]]:
    """How many go first, the line that says so, and a key that changes when the line must.

    The line reads e.g. "1 ahead (lander, generation 23/60, started 3m10s ago); lander
    will pause at its next checkpoint". The key ignores the clock and the progress, so a
    client is told again only when the queue itself changes.
    """
    now = time.time()
    waits = blocking(request, running, slots)
    items = [
        f"{r.target}, {'forced' if r.forced else 'scheduled'}, waiting {duration(now - r.since)}"
        for r in ahead
    ]
    items += [
        f"{s.target}, {s.progress.summary()}, started {duration(now - s.started)} ago"
        for s in waits
    ]
    count = len(items)
    line = f"{count} ahead ({'; '.join(items)})" if items else "next in line"
    for slot in waits:
        if slot.stop.yielding:
            line += f"; {slot.target} {pause(slot)}"
        elif slot.request.forced and request.forced and not ahead:
            line += f"; {slot.target}'s cycle was forced too: it runs to its end"
    key = (
        tuple(r.seq for r in ahead),
        tuple((s.target, s.stop.yielding) for s in waits),
    )
    return count, line, key


def pause(slot: Slot) -> str:
    """How a yielding cycle gives its slot up, for a person."""
    if slot.request.kind == "weights":
        return "will pause at its next checkpoint (it resumes from there later)"
    return "will stop after its current batch (it runs again later)"


def status_sections(waiting: list[Request], running: list[Slot]) -> dict[str, Any]:
    """The queue and the running cycles, as `nmctl status` shows them."""
    now = time.time()
    return {
        "running": [slot.view() for slot in running],
        "queue": [
            {**request.view(now), "position": position}
            for position, request in enumerate(waiting, 1)
        ],
    }
