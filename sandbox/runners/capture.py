"""Read a process's output pipes, keeping at most a fixed number of bytes of each."""

from __future__ import annotations

import os
import selectors
import time


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


def pump(streams: dict[int, CappedStream], deadline: float, pid: int | None = None) -> bool:
    """Read the pipes (fd -> stream) until process `pid` exits or `deadline` passes.

    With no `pid`, read until every pipe closes. Returns False if the deadline
    came first. The exit is seen through a pidfd, so there is no polling delay.
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
            remaining = deadline - time.monotonic()
            if remaining <= 0:
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
