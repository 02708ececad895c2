"""What nmctl draws of cycles' progress: `nmctl cycle`'s bar, and the status view.

The same drawing serves both paths: a local cycle calls `TerminalProgress`
with event objects, and a remote one gets them as JSON through the control
socket, read back with `from_wire`. What nmd's queue says (`Queued`,
`Started`) is printed as whole lines, terminal or not: a person who waits must
always see why. `status_text` is `nmctl status`'s view, which `nmctl watch`
redraws: each target, each running cycle's progress and time left, the queue.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from daemon.cycles.events import Evaluated, Event, Generation, Phase, Queued, Started, from_dict
from daemon.service.progress import duration

CLEAR = "\r\033[K"
"""Back to the start of the line, and erase it."""


class TerminalProgress:
    """A one-line progress bar on stderr, drawn only when it is a terminal.

    Args:
        enabled: draw the bar (stderr is a terminal).
        stream: where to draw (stderr).
        announce: print the queue's lines (queued, started) even without the bar.
    """

    def __init__(
        self, enabled: bool, stream: TextIO | None = None, *, announce: bool = False
    ) -> None:
        self.enabled, self.announce = enabled, announce
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.running = False
        """Whether nmd said the cycle started (it then runs on without this client)."""

    def __call__(self, event: Event) -> None:
        """Redraw the line for one event; events of unknown kinds are ignored."""
        if isinstance(event, Queued | Started):
            self.queue_line(event)
            return
        if not self.enabled:
            return
        match event:
            case Phase(name=name):
                line = f"{name}..."
            case Evaluated():
                line = f"{evaluated_line(event)}, {self.elapsed()}"
            case Generation():
                line = f"{generation_line(event)}, {self.elapsed()}"
            case _:
                return
        self.stream.write(CLEAR + line)
        self.stream.flush()

    def queue_line(self, event: Queued | Started) -> None:
        """Print what nmd's queue said, as a line of its own."""
        if isinstance(event, Started):
            self.running, self.started = True, time.monotonic()
        if not (self.announce or self.enabled):
            return
        if isinstance(event, Queued):
            line = f"queued: {event.detail}"
        elif event.waited >= 1:
            line = f"started, after {event.waited:.0f}s in the queue"
        else:
            line = "started"
        self.stream.write((CLEAR if self.enabled else "") + line + "\n")
        self.stream.flush()

    def on_wire(self, data: dict[str, Any]) -> None:
        """Draw an event as the control socket carries it (``to_dict``'s JSON)."""
        event = from_wire(data)
        if event is not None:
            self(event)

    def elapsed(self) -> str:
        """Seconds since the cycle began."""
        return f"{time.monotonic() - self.started:.0f}s"

    def close(self) -> None:
        """Clear the bar's line, so the summary starts on a clean one."""
        if self.enabled:
            self.stream.write(CLEAR)
            self.stream.flush()


def from_wire(data: dict[str, Any]) -> Event | None:
    """The event in one JSON message from nmd; None if this version cannot read it.

    A daemon of another version may send kinds or fields we do not know: a
    progress bar is not worth failing a cycle for.
    """
    try:
        return from_dict(data)
    except (TypeError, ValueError):
        return None


def _number(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def evaluated_line(event: Evaluated) -> str:
    """Code candidates evaluated so far, as the progress bar shows them."""
    total = max(1, event.total)
    bar = "#" * int(30 * min(1.0, event.done / total))
    return f"[{bar:<30}] {event.done}/{event.total} candidates, best {event.best:.3f}"


def generation_line(event: Generation) -> str:
    """One generation of a weights cycle's evolution, as the progress bar shows it."""
    if event.total:
        filled = int(24 * min(1.0, event.generation / event.total))
        head = f"[{'#' * filled:<24}] gen {event.generation}/{event.total}"
    else:
        head = f"gen {event.generation}"
    escape = "" if event.escape_p is None else f", p_escape {event.escape_p:.3f}"
    rate = f", {event.env_steps / event.wall_time:,.0f} steps/s" if event.wall_time > 0 else ""
    return (
        f"{head}: best {_number(event.best)}, mean {_number(event.mean)}"
        f"{escape}, {event.env_steps:,} env steps{rate}"
    )


def status_text(status: dict[str, Any]) -> str:
    """The daemon's status for a person: targets, running cycles, the queue."""
    lines = [f"nmd: {status['status']}"]
    for name, t in status["targets"].items():
        flags = ", ".join(
            f
            for f, on in (
                ("paused", t["paused"]),
                ("running", t["running"]),
                ("queued", t.get("queued")),
            )
            if on
        )
        last = t["last"]
        last_text = f"last: cycle {last['cycle']} {last['status']}" if last else "no cycle yet"
        lines.append(
            f"  {name:<16} next {t['next_run'] or '-'}  {last_text}"
            + (f"  [{flags}]" if flags else "")
        )
    running, queue = status.get("running") or [], status.get("queue") or []
    if running:
        lines.append("running:")
        lines += [f"  {running_line(r)}" for r in running]
    if queue:
        lines.append("queued:")
        lines += [f"  {queued_line(q)}" for q in queue]
    return "\n".join(lines)


def running_line(cycle: dict[str, Any]) -> str:
    """One running cycle: who, what it is doing, how long it ran, how long it has left."""
    how = "forced" if cycle["forced"] else "scheduled"
    event = from_wire(cycle["event"]) if cycle.get("event") else None
    match event:
        case Evaluated():
            doing = f"{cycle['phase']}: {evaluated_line(event)}"
        case Generation():
            doing = f"{cycle['phase']}: {generation_line(event)}"
        case _:
            doing = str(cycle["phase"])
    left = "" if cycle.get("eta") is None else f", about {duration(cycle['eta'])} left"
    yields = f"  [yielding to {cycle['yields_to']}]" if cycle.get("yielding") else ""
    return (
        f"{cycle['target']:<16} {how:<9} {doing}  "
        f"({duration(cycle['elapsed'])} elapsed{left}){yields}"
    )


def queued_line(request: dict[str, Any]) -> str:
    """One queued request: its place, target, priority, and how long it has waited."""
    how = "forced" if request["forced"] else "scheduled"
    return (
        f"{request['position']}. {request['target']:<16} {how:<9} "
        f"waiting {duration(request['waiting'])}"
    )
