"""The one-line progress bar `nmctl cycle` draws from a cycle's events.

The same drawing serves both paths: a local cycle calls `TerminalProgress`
with event objects, and a remote one gets them as JSON through the control
socket, read back with `from_wire`.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from daemon.cycles.events import Evaluated, Event, Generation, Phase, from_dict

CLEAR = "\r\033[K"
"""Back to the start of the line, and erase it."""


class TerminalProgress:
    """A one-line progress bar on stderr, drawn only when it is a terminal."""

    def __init__(self, enabled: bool, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def __call__(self, event: Event) -> None:
        """Redraw the line for one event; events of unknown kinds are ignored."""
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
    return (
        f"{head}: best {_number(event.best)}, mean {_number(event.mean)}"
        f"{escape}, {event.env_steps:,} env steps"
    )
