"""Sandbox images: the offline one made from the host's runtime, and the Dockerfile one.

The offline image is a root filesystem of a few megabytes: an /etc/passwd, the
sandbox's own directories, and the shared libraries the host's Python and its
extension modules link against. The interpreter and packages themselves are
mounted read-only at run time (see `runtime`). No registry is contacted.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from .errors import NoImage, StaleImage
from .job import JOB, LIB, SRC, WORK
from .runtime import Runtime, current_runtime

log = logging.getLogger(__name__)

REPOSITORY = "neuromutant-sandbox"
DOCKERFILE_TAG = f"{REPOSITORY}:latest"
SANDBOX_UID = 65534
LABEL = "neuromutant"

_PASSWD = (
    "root:x:0:0:root:/nonexistent:/nonexistent\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n"
)
_GROUP = "root:x:0:\nnogroup:x:65534:\n"
_LDD_PATH = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x")


@dataclass(frozen=True)
class ImageInfo:
    """What the backend needs to know about an image to run jobs in it."""

    tag: str
    kind: str
    """'offline' (borrows the host's Python) or 'dockerfile' (has its own)."""
    python: str
    mounts: tuple[str, ...]
    fingerprint: str

    def check_runtime(self, runtime: Runtime | None = None) -> str | None:
        """Why this image cannot run here, or None when it can."""
        if self.kind != "offline":
            return None
        missing = [m for m in (*self.mounts, self.python) if not os.path.exists(m)]
        if missing:
            return f"it mounts {', '.join(missing)}, which no longer exist"
        runtime = runtime or current_runtime()
        if self.fingerprint != runtime.fingerprint():
            return "the Python runtime or its packages changed since it was built"
        return None


def inspect(client: docker.DockerClient, tag: str) -> ImageInfo:
    """Read an image's labels; raises `NoImage` when it is absent."""
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        raise NoImage(tag) from None
    labels = image.labels or {}
    mounts = labels.get(f"{LABEL}.mounts", "")
    return ImageInfo(
        tag=tag,
        kind=labels.get(f"{LABEL}.kind", "dockerfile"),
        python=labels.get(f"{LABEL}.python", "python3"),
        mounts=tuple(m for m in mounts.split(":") if m),
        fingerprint=labels.get(f"{LABEL}.fingerprint", ""),
    )


def offline_tag(runtime: Runtime | None = None) -> str:
    """The offline image's tag for a runtime: each checkout's environment has its own."""
    return f"{REPOSITORY}:offline-{(runtime or current_runtime()).key}"


def resolve(client: docker.DockerClient, tag: str | None = None) -> ImageInfo:
    """The image to use: `tag` if given, else this runtime's offline one, else the Dockerfile's."""
    if tag:
        return inspect(client, tag)
    try:
        return inspect(client, offline_tag())
    except NoImage:
        try:
            return inspect(client, DOCKERFILE_TAG)
        except NoImage:
            raise NoImage(offline_tag()) from None


def ensure_usable(info: ImageInfo) -> ImageInfo:
    """Raise `StaleImage` if an offline image's mounts are gone."""
    reason = info.check_runtime()
    if reason and "no longer exist" in reason:
        raise StaleImage(info.tag, reason)
    return info


# --- building -------------------------------------------------------------------------------


def build_offline(
    client: docker.DockerClient, runtime: Runtime | None = None, *, force: bool = False
) -> tuple[ImageInfo, bool]:
    """Build the offline image from this host's runtime; returns (image, whether it was built).

    Skips the build when an image for the same runtime fingerprint exists.
    """
    runtime = runtime or current_runtime()
    fingerprint = runtime.fingerprint()
    full_tag = offline_tag(runtime)
    previous = None
    with contextlib.suppress(docker.errors.ImageNotFound):
        previous = client.images.get(full_tag).id
    if previous and not force:
        existing = inspect(client, full_tag)
        if existing.kind == "offline" and existing.check_runtime(runtime) is None:
            return existing, False
    libraries = shared_libraries(runtime)
    log.info("building %s with %d host libraries", full_tag, len(libraries))
    with tempfile.NamedTemporaryFile(suffix=".tar") as archive:
        write_rootfs(archive.name, libraries)
        changes = [
            f"LABEL {LABEL}.kind=offline",
            f'LABEL {LABEL}.python="{runtime.python}"',
            f'LABEL {LABEL}.mounts="{":".join(runtime.mounts)}"',
            f"LABEL {LABEL}.fingerprint={fingerprint}",
            f"USER {SANDBOX_UID}:{SANDBOX_UID}",
            f"WORKDIR {WORK}",
        ]
        repository, tag = full_tag.split(":")
        client.api.import_image_from_file(
            archive.name, repository=repository, tag=tag, changes=changes
        )
    built = inspect(client, full_tag)
    if previous:  # now untagged: remove it, unless a container still uses it
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(previous)
    return built, True


def build_dockerfile(client: docker.DockerClient) -> ImageInfo:
    """Build `sandbox/Dockerfile` (needs a registry for its base image)."""
    context = Path(__file__).parent
    client.images.build(path=str(context), dockerfile="Dockerfile", tag=DOCKERFILE_TAG, rm=True)
    return inspect(client, DOCKERFILE_TAG)


def _elf_files(runtime: Runtime) -> list[str]:
    files = [os.path.realpath(runtime.python)]
    for mount in runtime.mounts:
        for path in Path(mount).rglob("*.so*"):
            if path.is_file() and not path.is_symlink():
                files.append(str(path))
    return files


def shared_libraries(runtime: Runtime) -> list[str]:
    """Host libraries, outside the mounted prefixes, that the runtime's ELF files load."""
    found: set[str] = set()
    files = _elf_files(runtime)
    for start in range(0, len(files), 64):
        chunk = files[start : start + 64]
        done = subprocess.run(["ldd", *chunk], capture_output=True, text=True, check=False)
        for match in _LDD_PATH.finditer(done.stdout):
            found.add(match.group(1))
    inside = tuple(m + "/" for m in runtime.mounts)
    return sorted(p for p in found if not p.startswith(inside) and os.path.exists(p))


def write_rootfs(path: str, libraries: Iterable[str]) -> None:
    """Write the image's root filesystem as a tar archive at `path`."""
    with tarfile.open(path, "w") as tar:
        added: set[str] = set()
        for directory, mode in (("/etc", 0o755), ("/tmp", 0o1777), ("/sandbox", 0o755)):
            _add_dir(tar, directory, mode, added)
        for directory in (SRC, WORK, JOB, LIB):
            _add_dir(tar, directory, 0o755, added)
        _add_text(tar, "/etc/passwd", _PASSWD)
        _add_text(tar, "/etc/group", _GROUP)
        for library in libraries:
            _add_host_path(tar, library, added)


def _add_dir(tar: tarfile.TarFile, name: str, mode: int, added: set[str]) -> None:
    if name in added:
        return
    info = tarfile.TarInfo(name.lstrip("/"))
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(info)
    added.add(name)


def _add_text(tar: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name.lstrip("/"))
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_host_path(tar: tarfile.TarFile, path: str, added: set[str]) -> None:
    """Add a host file with every symlink on its way, so both names resolve inside."""
    parts = path.strip("/").split("/")
    current = ""
    for index, part in enumerate(parts):
        candidate = f"{current}/{part}"
        if os.path.islink(candidate):
            if candidate not in added:
                tar.add(candidate, arcname=candidate.lstrip("/"), recursive=False)
                added.add(candidate)
            target = os.path.normpath(os.path.join(current or "/", os.readlink(candidate)))
            _add_host_path(tar, "/".join([target, *parts[index + 1 :]]), added)
            return
        if index < len(parts) - 1:
            _add_dir(tar, candidate, 0o755, added)
        current = candidate
    if current not in added:
        tar.add(current, arcname=current.lstrip("/"), recursive=False)
        added.add(current)
