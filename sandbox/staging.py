"""The per-job directory on the host that holds the job file.

It lives under the state directory, not /tmp, because the Docker daemon
resolves bind-mount sources in its own mount namespace (a service with
PrivateTmp= would hand it a /tmp it cannot see).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import owner
from .job import LIB, RESULT, SCRATCH, WORK, Job


def tree_problem(tree: Path) -> str | None:
    """Why the sandbox user could not read `tree`, or None.

    The sandbox runs as an unprivileged uid, so the tree must be readable by
    others; a private tree would make every candidate fail for the wrong reason.
    """
    path = Path(tree)
    if not path.is_dir():
        return f"the tree {path} is not a directory"
    mode = path.stat().st_mode
    if not (mode & stat.S_IROTH and mode & stat.S_IXOTH):
        return (
            f"the tree {path} is not readable by the sandbox user (mode "
            f"{stat.S_IMODE(mode):o}); allow others to read it: chmod o+rx {path}"
        )
    return None


def job_document(job: Job, python: str) -> dict[str, Any]:
    """The job file the launcher reads, with ``{python}`` filled in."""
    return {
        "command": [python if arg == "{python}" else arg for arg in job.command],
        "env": {
            "PYTHONPATH": LIB,
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": WORK,
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            **job.env,
        },
        "cwd": WORK,
        "timeout": job.limits.timeout,
        "output_limit": job.limits.output,
        "result_limit": job.limits.result,
        "result_path": RESULT,
        "channel": job.channel,
        "watch": dataclasses.asdict(job.watch) if job.watch else None,
        "scratch": list(SCRATCH),
        "overlays": dict(job.overlays),
        "payload": dict(job.payload),
    }


OWNER_FILE = "owner"


@contextlib.contextmanager
def staged(job: Job, python: str, root: Path) -> Iterator[Path]:
    """A fresh directory with ``job.json`` and the job's files, removed after."""
    root.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="job-", dir=root))
    try:
        os.chmod(directory, 0o755)
        (directory / OWNER_FILE).write_text(owner.token())
        path = directory / "job.json"
        path.write_text(json.dumps(job_document(job, python)))
        os.chmod(path, 0o644)
        for name, data in job.files.items():  # names checked by Job: no path escapes
            (directory / name).write_bytes(data)
            os.chmod(directory / name, 0o644)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def port_folder(root: Path) -> Path:
    """A fresh folder for a long-lived runner's socket (`Job.port`), swept like job folders."""
    root.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="job-port-", dir=root))
    os.chmod(directory, 0o755)
    (directory / OWNER_FILE).write_text(owner.token())
    return directory


def sweep(root: Path) -> list[Path]:
    """Remove job directories whose owning process is gone (it was killed mid-job)."""
    removed = []
    for directory in root.glob("job-*") if root.is_dir() else ():
        try:
            token = (directory / OWNER_FILE).read_text()
        except OSError:  # just made by a live process, or killed before it wrote the file
            if time.time() - directory.stat().st_mtime < 60:
                continue
            token = ""
        if not owner.alive(token):
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed
