"""A request, from another thread, to end a job that is still running.

A long-lived sandbox (`gym_pool`) is killed when it stops answering: the
backend running its job registers how to kill that job (stop its container,
kill its process group) for as long as the job runs, and `Cancel.set` calls
it at once. No thread polls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Cancel:
    """Set once; whoever runs the job has said how to stop it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set = False
        self._actions: list[Callable[[], None]] = []

    def is_set(self) -> bool:
        """Whether the job was asked to end."""
        return self._set

    def set(self) -> None:
        """Ask the job to end: run every registered action once (their errors are theirs)."""
        with self._lock:
            if self._set:
                return
            self._set = True
            actions = list(self._actions)
        for action in actions:
            action()

    @contextmanager
    def on_set(self, action: Callable[[], None]) -> Iterator[None]:
        """Within the block, `set` runs `action`; run at once if already set."""
        with self._lock:
            already = self._set
            if not already:
                self._actions.append(action)
        if already:
            action()
        try:
            yield
        finally:
            with self._lock:
                if action in self._actions:
                    self._actions.remove(action)


@contextmanager
def cancellable(cancel: Cancel | None, action: Callable[[], None]) -> Iterator[None]:
    """`cancel.on_set(action)` when there is a `cancel`, nothing otherwise."""
    if cancel is None:
        yield
        return
    with cancel.on_set(action):
        yield
