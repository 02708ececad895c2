"""sd_notify: tell systemd we are ready, alive, stopping, and how we are doing.

A datagram to ``$NOTIFY_SOCKET`` (a path, or an abstract name starting with @).
Without the variable (not under systemd) every call is a no-op. A listener that
stops reading must not stall the daemon: a send waits at most SEND_TIMEOUT seconds
and the message is dropped.
"""

from __future__ import annotations

import os
import socket

SEND_TIMEOUT = 1.0


def notify(**fields: str | int) -> bool:
    """Send ``KEY=value`` lines, e.g. ``notify(READY=1, STATUS="3 targets")``."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    message = "\n".join(f"{key}={value}" for key, value in fields.items()).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.settimeout(SEND_TIMEOUT)
        try:
            sock.sendto(message, address)
        except OSError:
            return False
    return True


def watchdog_interval() -> float | None:
    """Half the watchdog period systemd asked for (``$WATCHDOG_USEC``), in seconds."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) != os.getpid()):
        return None
    return int(usec) / 2_000_000
