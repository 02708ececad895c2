"""Requests and slots made by hand, for the queue's unit tests; waiting on a condition."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from daemon.service.eta import Budget
from daemon.service.progress import ProgressLog
from daemon.service.requests import CycleStop, Request, Slot

STOPPING = threading.Event()


def forced(target: str, kind: str = "code") -> Request:
    return Request(target, True, kind)


def scheduled(target: str, kind: str = "code") -> Request:
    return Request(target, False, kind)


def slot(request: Request, started: float = 0.0) -> Slot:
    progress = ProgressLog(request.target, Budget(request.kind, 60.0), clock=lambda: 0.0)
    return Slot(request, CycleStop(STOPPING), progress, started)


def starter(request: Request) -> Slot:
    """The queue's `start` callback: a plain slot."""
    return slot(request)


def until(condition: Callable[[], Any], what: str, bound: float = 30.0) -> Any:
    """Poll `condition` until it gives a true value (returned); fail after `bound` seconds."""
    deadline = time.monotonic() + bound
    while not (value := condition()):
        assert time.monotonic() < deadline, f"not within {bound} s: {what}"
        time.sleep(0.01)
    return value
