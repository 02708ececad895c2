"""The backend interface, and how one is chosen.

A backend runs a `Job` and returns a `Result`. Docker is the default. The
bubblewrap backend isolates less (no cgroup limits, see docs/sandbox.md), so it
is used only when configured, or when Docker is unavailable and the caller
allowed the fallback; either way it logs a loud warning. There is no backend
that runs candidates unsandboxed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from .cancel import Cancel
from .errors import BackendUnavailable
from .job import Job, Result

log = logging.getLogger(__name__)

BACKENDS = ("docker", "bwrap")


class Backend(Protocol):
    """Runs jobs in a sandbox."""

    name: str

    def run(self, job: Job, cancel: Cancel | None = None) -> Result:
        """Run one job to its end and describe how it ended; never raises for the job's doings.

        Setting `cancel` kills the job at once (its outcome is then `killed`).
        """
        ...

    def describe(self) -> dict[str, Any]:
        """What this backend is and what it will use, for `nmctl sandbox check`."""
        ...


def open_backend(
    state_dir: Path,
    kind: str = "docker",
    *,
    allow_bwrap_fallback: bool = False,
    image: str | None = None,
) -> Backend:
    """The backend to run candidates with.

    Args:
        state_dir: where job files are staged (must be visible to the Docker daemon).
        kind: "docker" or "bwrap".
        allow_bwrap_fallback: use bubblewrap if Docker cannot be used.
        image: a Docker image tag instead of the default offline/Dockerfile image.

    Raises:
        BackendUnavailable: no allowed backend can run jobs here; the message says why.
    """
    if kind not in BACKENDS:
        raise ValueError(f"sandbox backend {kind!r}: expected one of {', '.join(BACKENDS)}")
    if kind == "docker":
        from .docker_backend import DockerBackend

        try:
            return DockerBackend(state_dir, image=image)
        except BackendUnavailable as exc:
            if not allow_bwrap_fallback:
                raise
            log.warning("Docker cannot be used (%s); falling back to bubblewrap as allowed", exc)
    from .bwrap_backend import BwrapBackend

    return BwrapBackend(state_dir)
