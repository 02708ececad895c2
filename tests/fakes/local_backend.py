"""A backend that runs each job in a plain local subprocess, with NO sandbox: tests only.

It exists so that cycle logic, selection, commit/verify/revert and recovery can
be tested in seconds, without Docker or bubblewrap. It isolates nothing: a
candidate runs as the test process's user, sees the host's files and network,
and has no memory, CPU or process limit; only the wall clock is enforced. Real
isolation is what the real backends' tests check (`docker_backend`, `bwrap_backend`).

Inside a real sandbox the runners see fixed absolute paths (`sandbox.job.SRC`,
`WORK`, `JOB`, `LIB`, `RESULT`, and the batch harness wipes ``/tmp`` and
``/dev/shm`` between candidates). Here each job gets a private root directory
and every such path in the job document is rewritten to lie under it, so the
harness empties ``<root>/tmp``, never the host's ``/tmp``. A document that
would still write or wipe outside the root is refused before anything runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox import runners
from sandbox.cancel import Cancel, cancellable
from sandbox.job import Job, Outcome, Result
from sandbox.report import classify, parse_report
from sandbox.runners import procs
from sandbox.staging import job_document, tree_problem

RUNNERS = Path(runners.__file__).parent
GRACE = 15.0
"""Seconds past the job's timeout before the launcher itself is killed, as the real backends."""
RELOCATED = (("/sandbox", ""), ("/tmp", "tmp"), ("/dev/shm", "dev/shm"))
"""Sandbox path prefix -> where it lies under a job's root ("" is the root itself)."""
PYTHON = "<python>"
"""Stands for the interpreter until the job document has been relocated."""
WARNING = "local backend in use: NO isolation at all; for tests only"


class UnconfinedJob(RuntimeError):
    """The job document would write or wipe outside the job's private root."""


def relocate_path(text: str, root: Path) -> str:
    """`text` moved under `root` when it is a sandbox path (``/tmp/x`` -> ``<root>/tmp/x``)."""
    for prefix, place in RELOCATED:
        if text == prefix or text.startswith(prefix + "/"):
            return str(Path(root, place)) + text[len(prefix) :]
    return text


def relocate(value: Any, root: Path) -> Any:
    """A copy of the JSON value `value` with every string that is a sandbox path relocated.

    Only whole strings that are such paths are rewritten (command arguments,
    environment values, payload fields); dictionary keys and other text, such
    as a candidate's source, are left alone.
    """
    if isinstance(value, str):
        return relocate_path(value, root)
    if isinstance(value, list):
        return [relocate(item, root) for item in value]
    if isinstance(value, dict):
        return {key: relocate(item, root) for key, item in value.items()}
    return value


def _inside(path: str, root: Path) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real != top and os.path.commonpath([real, top]) == top


def check_confined(document: dict[str, Any], root: Path) -> None:
    """Refuse a document whose written or wiped folders are not strictly inside `root`.

    Symbolic links are resolved first, so wiping ``<root>/src`` (a link to the
    real tree) is refused too.

    Raises:
        UnconfinedJob: names the first offending path.
    """
    payload = document.get("payload", {})
    written = [document.get("cwd"), document.get("result_path"), payload.get("scratch")]
    for path in [*written, *payload.get("wipe", [])]:
        if path is not None and not _inside(str(path), root):
            raise UnconfinedJob(f"{path} is not inside the job's root {root}")


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # gone already
    return stat[stat.rindex(")") + 2 :].startswith("Z")


def kill_tree(pid: int) -> None:
    """SIGKILL process `pid` and every process below it.

    The candidate runs in a session of its own, so killing the launcher's
    process group alone would leave it running. The launcher is stopped first:
    it cannot start anything more, and as a child subreaper it keeps the
    orphans of killed processes in its subtree where they can still be found.
    """
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGSTOP)
    for _ in range(100):
        victims = [p for p in procs.descendants(pid) if not _zombie(p)]
        if not victims:
            break
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError):
            kill(pid, signal.SIGKILL)


class LocalBackend:
    """Runs ``nmrunners.launch`` in a local subprocess on a private root per job."""

    name = "local"

    def __init__(self, base: Path | None = None, *, grace: float = GRACE) -> None:
        """Make job roots under `base` (default: the temporary directory).

        `grace` is how long past the job's timeout the launcher may take
        before it is killed; tests lower it to reach that path quickly.
        """
        self.base = Path(base) if base is not None else Path(tempfile.gettempdir())
        self.grace = grace

    def describe(self) -> dict[str, Any]:
        """What this backend is: the interpreter it runs jobs with, and that it isolates nothing."""
        return {"backend": self.name, "python": sys.executable, "warning": WARNING}

    def prepare(self, job: Job, root: Path) -> dict[str, Any]:
        """Lay out `root` as the sandbox's paths and write the relocated job file; returns it."""
        for sub in ("work", "tmp", "dev/shm", "job", "lib"):
            (root / sub).mkdir(parents=True)
        (root / "src").symlink_to(Path(job.tree).resolve(), target_is_directory=True)
        (root / "lib" / "nmrunners").symlink_to(RUNNERS.resolve(), target_is_directory=True)
        if job.port is not None:
            (root / "port").symlink_to(Path(job.port).resolve(), target_is_directory=True)
        # The interpreter goes in after relocating: it may itself live under /tmp (a checkout
        # there), and it is a host path, not a sandbox one.
        document = relocate(job_document(job, PYTHON), root)
        document["command"] = [sys.executable if a == PYTHON else a for a in document["command"]]
        check_confined(document, root)
        (root / "job" / "job.json").write_text(json.dumps(document))
        for name, data in job.files.items():  # names checked by Job: no path escapes
            (root / "job" / name).write_bytes(data)
        return document

    def run(self, job: Job, cancel: Cancel | None = None) -> Result:
        """Run one job to the end (or until `cancel`); never raises for what the job does.

        Raises:
            UnconfinedJob: the job would write or wipe outside its private root.
        """
        problem = tree_problem(job.tree)  # as the real backends, so callers see the same error
        if problem:
            return Result(Outcome.ERROR, None, 0.0, detail=problem)
        self.base.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="nm-local-job-", dir=self.base))
        try:
            self.prepare(job, root)
            return self._launch(job, root, cancel)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _launch(self, job: Job, root: Path, cancel: Cancel | None) -> Result:
        env = {
            "PYTHONPATH": str(root / "lib"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PATH": "/usr/bin:/bin",
            "HOME": str(root / "work"),
            "TMPDIR": str(root / "tmp"),
            "LANG": "C.UTF-8",
        }
        command = [sys.executable, "-m", "nmrunners.launch", str(root / "job" / "job.json")]
        started = time.monotonic()
        killed_for_time = False
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=root / "work",
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            return classify(None, wall_time=0.0, launcher_error=f"cannot start: {exc}")
        try:
            with cancellable(cancel, lambda: kill_tree(proc.pid)):
                stdout, stderr = proc.communicate(timeout=job.limits.timeout + self.grace)
        except subprocess.TimeoutExpired:
            killed_for_time = True
            kill_tree(proc.pid)
            stdout, stderr = proc.communicate()
        return classify(
            parse_report(stdout),
            wall_time=time.monotonic() - started,
            killed_for_time=killed_for_time,
            launcher_error=stderr.decode("utf-8", "replace"),
        )
