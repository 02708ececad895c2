"""The fallback backend: bubblewrap namespaces with resource limits from rlimits.

Weaker than Docker, and loud about it: there is no cgroup, so memory is bounded
by RLIMIT_AS (address space, not resident memory; a memory bomb fails with
MemoryError and is reported as `failed`, not `oom`), processes by RLIMIT_NPROC,
and CPU time by RLIMIT_CPU; there is no CPU quota. Namespaces still give no
network, a private /proc and pid space, and a root made only of read-only
binds. What it cannot contain is written down in docs/sandbox.md.

As in Docker, the only writable places are the size-capped tmpfs of /tmp,
the work dir and /dev/shm, and an mqueue filesystem at /dev/mqueue (so the
batch harness can list and remove a candidate's POSIX message queues): the
root and /dev are remounted read-only, since bubblewrap makes them writable
by the sandbox's user. The launcher runs as pid 1 of the sandbox's pid
namespace, so no candidate can kill or stop it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from .cancel import Cancel, cancellable
from .errors import NoBubblewrap
from .job import JOB, LIB, PORT, SRC, WORK, Job, Outcome, Result
from .report import classify, parse_report
from .runtime import Runtime, current_runtime
from .staging import staged, sweep, tree_problem

log = logging.getLogger(__name__)

RUNNERS = Path(__file__).parent / "runners"
GRACE = 15.0
SANDBOX_UID = 65534
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
WARNING = (
    "bubblewrap sandbox in use: isolation is WEAKER than Docker (no cgroup memory or CPU "
    "limits, address-space rlimit only); see docs/sandbox.md"
)


class BwrapBackend:
    """Runs each job under `bwrap` with every namespace unshared."""

    name = "bwrap"

    def __init__(self, state_dir: Path, runtime: Runtime | None = None) -> None:
        self.bwrap = shutil.which("bwrap")
        if self.bwrap is None:
            raise NoBubblewrap("bubblewrap is not installed: `apt-get install bubblewrap`")
        self.runtime = runtime or current_runtime()
        self.stage_root = Path(state_dir) / "run" / "jobs"
        sweep(self.stage_root)
        probe = subprocess.run(
            [self.bwrap, *self._base_args(), "--", "/bin/true"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0:
            raise NoBubblewrap(f"bwrap cannot create its namespaces here: {probe.stderr.strip()}")
        log.warning(WARNING)

    def describe(self) -> dict[str, Any]:
        """What `nmctl sandbox check` shows."""
        return {
            "backend": self.name,
            "bwrap": self.bwrap,
            "python": self.runtime.python,
            "mounts": list(self.runtime.mounts),
            "warning": WARNING,
        }

    def _base_args(self) -> list[str]:
        args = [
            "--unshare-all",
            "--as-pid-1",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--uid",
            str(SANDBOX_UID),
            "--gid",
            str(SANDBOX_UID),
            "--hostname",
            "sandbox",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
        ]
        for path in SYSTEM_DIRS:
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                args += ["--ro-bind", path, path]
        return args

    def _command(self, job: Job, stage: Path) -> list[str]:
        limits = job.limits
        # The tmpfs go first: a later bind (a virtual environment under /tmp) lands inside them.
        args = [self.bwrap, *self._base_args()]
        args += ["--perms", "1777", "--size", str(limits.scratch), "--tmpfs", "/tmp"]
        args += ["--perms", "0755", "--size", str(limits.scratch), "--tmpfs", WORK]
        args += ["--perms", "1777", "--size", str(limits.shm), "--tmpfs", "/dev/shm"]
        args += ["--mqueue", "/dev/mqueue", "--remount-ro", "/dev"]
        for mount in self.runtime.mounts:
            args += ["--ro-bind", mount, mount]
        if job.port is not None:
            args += ["--ro-bind", str(Path(job.port).resolve()), PORT]
        args += [
            "--ro-bind",
            str(Path(job.tree).resolve()),
            SRC,
            "--ro-bind",
            str(stage),
            JOB,
            "--ro-bind",
            str(RUNNERS.resolve()),
            f"{LIB}/nmrunners",
            "--remount-ro",
            "/",
            "--chdir",
            WORK,
            "--clearenv",
            "--setenv",
            "PYTHONPATH",
            LIB,
            "--setenv",
            "PYTHONDONTWRITEBYTECODE",
            "1",
            "--setenv",
            "PATH",
            "/usr/bin:/bin",
            "--",
            self.runtime.python,
            "-m",
            "nmrunners.launch",
            f"{JOB}/job.json",
        ]
        return args

    def run(self, job: Job, cancel: Cancel | None = None) -> Result:
        """Run one job to the end (or until `cancel`); never raises for what the job does."""
        problem = tree_problem(job.tree)
        if problem:
            return Result(Outcome.ERROR, None, 0.0, detail=problem)
        limits = job.limits

        def limit_resources() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.pids, limits.pids))
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits.scratch, limits.scratch))
            cpu = int(limits.timeout * max(1.0, limits.cpus)) + 5
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        with staged(job, self.runtime.python, self.stage_root) as stage:
            started = time.monotonic()
            killed_for_time = False
            try:
                proc = subprocess.Popen(
                    self._command(job, stage),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    preexec_fn=limit_resources,
                    start_new_session=True,
                )
            except OSError as exc:
                return classify(None, wall_time=0.0, launcher_error=f"cannot start bwrap: {exc}")
            try:
                with cancellable(cancel, lambda: _kill_group(proc.pid)):
                    stdout, stderr = proc.communicate(timeout=limits.timeout + GRACE)
            except subprocess.TimeoutExpired:
                killed_for_time = True
                os.killpg(proc.pid, 9)
                stdout, stderr = proc.communicate()
            return classify(
                parse_report(stdout),
                wall_time=time.monotonic() - started,
                killed_for_time=killed_for_time,
                launcher_error=stderr.decode("utf-8", "replace"),
            )


def _kill_group(pid: int) -> None:
    """Kill a cancelled job: bwrap and, through --die-with-parent, everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, 9)
