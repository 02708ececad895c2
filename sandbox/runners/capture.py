"""Read a process's output pipes, keeping at most a fixed number of bytes of each."""

from __future__ import annotations

import os
import selectors
import time
from collections.abc import Iterable


class CappedStream:
    """The first `cap` bytes of a stream, and how many bytes it carried in all."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        """Take one chunk read from the pipe."""
        self.total += len(chunk)
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]

    def to_dict(self) -> dict[str, object]:
        """The wire form the host reads back."""
        return {
            "text": self.kept.decode("utf-8", "replace"),
            "total_bytes": self.total,
            "truncated": self.total > len(self.kept),
        }


class Heartbeat:
    """Lines expected on some pipes: the first within `first` seconds, then one every `between`.

    A process that goes quiet for longer (stopped, or stuck) counts as stalled,
    long before its overall deadline.
    """

    def __init__(self, fds: Iterable[int], first: float, between: float) -> None:
        self.fds = frozenset(fds)
        self.between = between
        self.due = time.monotonic() + first
        self.stalled = False

    def saw(self, fd: int, chunk: bytes) -> None:
        """Note a chunk read from pipe `fd`: a complete line on one of ours is progress."""
        if fd in self.fds and b"\n" in chunk:
            self.due = time.monotonic() + self.between


def pump(
    streams: dict[int, CappedStream],
    deadline: float,
    pid: int | None = None,
    heartbeat: Heartbeat | None = None,
) -> bool:
    """Read the pipes (fd -> stream) until process `pid` exits or `deadline` passes.

    With no `pid`, read until every pipe closes. Returns False if the deadline
    came first, or if `heartbeat` saw no progress in time (it is then marked
    stalled). The exit is seen through a pidfd, so there is no polling delay.
    """
    selector = selectors.DefaultSelector()
    for fd in streams:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    pidfd = os.pidfd_open(pid) if pid is not None else None
    if pidfd is not None:
        selector.register(pidfd, selectors.EVENT_READ)
    try:
        while selector.get_map():
            due = min(deadline, heartbeat.due) if heartbeat else deadline
            remaining = due - time.monotonic()
            if remaining <= 0:
                if heartbeat and heartbeat.due < deadline:
                    heartbeat.stalled = True
                return False
            for key, _ in selector.select(timeout=remaining):
                if key.fd == pidfd:
                    return True
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if chunk:
                    streams[key.fd].feed(chunk)
                    if heartbeat:
                        heartbeat.saw(key.fd, chunk)
                else:
                    selector.unregister(key.fd)
        return True
    finally:
        selector.close()
        if pidfd is not None:
            os.close(pidfd)


def drain(streams: dict[int, CappedStream], seconds: float = 1.0) -> None:
    """Read what is left in pipes whose writers are dead."""
    pump(streams, time.monotonic() + seconds)
