"""Source trees as bytes, so a job can run on another machine.

A job names a host folder (`Job.tree`), mounted read-only into its sandbox.
Across machines the folder travels as a tar archive through Ray's object
store, keyed by the archive's digest: every node unpacks one archive once, into
a folder named for its digest, and a cycle's hundreds of batches share it.
Unpacking goes to a temporary name first and is renamed into place, so a
reader never sees half a tree, whoever unpacks beside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path

SKIPPED = frozenset({".git", "__pycache__", ".pytest_cache"})
"""Folders a sandbox never reads: history and caches."""
KEEP = 3 * 3600.0
"""Seconds an unpacked tree is kept after its last use."""


def pack(tree: Path) -> tuple[str, bytes]:
    """The tree's files as a tar archive, with its digest (sha256, hex).

    Entries are sorted and carry no owner or time, so the same files give the
    same digest on every run.
    """
    buffer = io.BytesIO()
    root = Path(tree)
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(_files(root)):
            info = archive.gettarinfo(str(path), arcname=str(path.relative_to(root)))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
            if info.isfile():
                with path.open("rb") as handle:
                    archive.addfile(info, handle)
            elif info.isdir():
                archive.addfile(info)
    data = buffer.getvalue()
    return hashlib.sha256(data).hexdigest(), data


def _files(root: Path) -> list[Path]:
    """Files and folders under `root`, less `SKIPPED` ones; links are not followed."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED]
        here = Path(folder)
        found += [here / d for d in dirs]
        found += [here / f for f in files if not (here / f).is_symlink()]
    return found


def unpack(digest: str, data: bytes, root: Path) -> Path:
    """The folder holding the archive's tree under `root`, unpacked if not there yet.

    Raises:
        ValueError: the data does not match its digest.
    """
    if hashlib.sha256(data).hexdigest() != digest:
        raise ValueError(f"tree archive {digest[:12]}: its bytes do not match the digest")
    target = Path(root) / digest
    if target.is_dir():
        os.utime(target)  # in use: keep it past the next sweep
        return target
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    scratch = Path(tempfile.mkdtemp(prefix=".unpack-", dir=root))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
            archive.extractall(scratch, filter="data")
        os.chmod(scratch, 0o755)  # the sandbox's user reads it
        try:
            scratch.rename(target)
        except OSError:  # another worker unpacked the same tree first
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def sweep(root: Path, keep: float = KEEP) -> list[Path]:
    """Remove unpacked trees unused for `keep` seconds, and unpacks left half-done."""
    removed = []
    now = time.time()
    for folder in Path(root).iterdir() if Path(root).is_dir() else ():
        with contextlib.suppress(OSError):
            if now - folder.stat().st_mtime > keep:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed
