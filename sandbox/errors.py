"""Errors raised by the sandbox package.

Running a candidate never raises: it returns a `Result`. These errors are for
the machinery itself being unusable (no Docker, no image, bad limits), and each
message says how to fix it.
"""

from __future__ import annotations


class Error(Exception):
    """Root of every sandbox error."""


class LimitError(Error, ValueError):
    """A limit (memory, time, size) was given in a form we cannot read."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        super().__init__(f"sandbox limit {field!r}: expected {expected}, got {value!r}")
        self.field = field
        self.value = value


class BackendUnavailable(Error):
    """The chosen backend cannot run jobs on this machine right now."""


class NoDockerDaemon(BackendUnavailable):
    """No Docker daemon answers on the configured socket."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"no Docker daemon answers ({detail}); start it (`dockerd &` or "
            "`systemctl start docker`), or run `bash daemon/bootstrap.sh setup`"
        )


class DockerPermissionDenied(BackendUnavailable):
    """The Docker socket exists but this user may not use it."""

    def __init__(self, socket: str) -> None:
        super().__init__(
            f"permission denied on the Docker socket {socket}; add this user to the "
            "'docker' group (then log in again) or run as root"
        )


class NoImage(BackendUnavailable):
    """The sandbox image has not been built."""

    def __init__(self, image: str) -> None:
        super().__init__(
            f"sandbox image {image!r} not found; build it with `nmctl sandbox build --offline` "
            "(no registry needed) or `nmctl sandbox build` (uses sandbox/Dockerfile)"
        )


class StaleImage(BackendUnavailable):
    """The offline image was built for another Python runtime than this one."""

    def __init__(self, image: str, reason: str) -> None:
        super().__init__(
            f"sandbox image {image!r} does not fit this Python runtime ({reason}); "
            "rebuild it with `nmctl sandbox build --offline`"
        )


class NoBubblewrap(BackendUnavailable):
    """The bubblewrap backend was chosen but `bwrap` is missing or cannot create namespaces."""


class UnsafeMount(Error):
    """A host path to be mounted would shadow a path the sandbox itself uses."""
