"""The default backend: one disposable, locked-down Docker container per job."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests
import urllib3.exceptions
from docker.types import LogConfig, Mount, Ulimit

from . import image as images
from . import reaper
from .cancel import Cancel, cancellable
from .errors import BackendUnavailable, DockerPermissionDenied, NoDockerDaemon
from .job import JOB, LIB, PORT, SRC, WORK, Job, Outcome, Result
from .report import classify, parse_report
from .staging import staged, sweep, tree_problem

log = logging.getLogger(__name__)

RUNNERS = Path(__file__).parent / "runners"
GRACE = 15.0
"""Seconds past the job's own timeout before the container itself is killed:
the launcher kills the command at the timeout, this catches a stuck launcher."""
DAEMON_GONE = (requests.exceptions.RequestException, urllib3.exceptions.HTTPError)
"""What docker-py raises when the daemon stops answering (a read timeout among them)."""

_abandoned: set[str] = set()
"""Containers whose removal failed because the daemon stopped answering. Their owner
is this live process, so the reaper spares them: the next start removes them."""
_abandoned_lock = threading.Lock()


def remove_abandoned(client: docker.DockerClient) -> list[str]:
    """Remove the containers this process had to abandon; returns their ids."""
    with _abandoned_lock:
        ids = sorted(_abandoned)
    removed = []
    for ident in ids:
        try:
            client.api.remove_container(ident, force=True)
        except docker.errors.NotFound:
            pass
        except (docker.errors.APIError, *DAEMON_GONE) as exc:
            log.warning("could not remove abandoned container %s yet: %s", ident[:12], exc)
            continue
        with _abandoned_lock:
            _abandoned.discard(ident)
        removed.append(ident)
    return removed


def _timed_out(exc: Exception) -> bool:
    """A wait that ran out its own timeout (docker-py reports one as a ConnectionError)."""
    return isinstance(exc, requests.exceptions.ReadTimeout) or "timed out" in str(exc)


def connect(base_url: str | None = None, timeout: float = 30.0) -> docker.DockerClient:
    """A client that answers, or an error saying why not (no daemon, no permission)."""
    socket = base_url or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = (
            docker.DockerClient(base_url=base_url, timeout=timeout)
            if base_url
            else docker.from_env(timeout=timeout)
        )
        client.ping()
        return client
    except docker.errors.DockerException as exc:
        text = str(exc)
        if "Permission denied" in text or "PermissionError" in text:
            raise DockerPermissionDenied(socket.removeprefix("unix://")) from exc
        raise NoDockerDaemon(f"{socket}: {text}") from exc


class DockerBackend:
    """Runs each job in a fresh container with no network and a read-only root."""

    name = "docker"

    def __init__(
        self,
        state_dir: Path,
        *,
        image: str | None = None,
        client: docker.DockerClient | None = None,
        reap: bool = True,
    ) -> None:
        self.client = client or connect()
        self.image = images.ensure_usable(images.resolve(self.client, image))
        self.stage_root = Path(state_dir) / "run" / "jobs"
        if reap:
            reaper.reap(self.client)
            remove_abandoned(self.client)
            sweep(self.stage_root)

    def describe(self) -> dict[str, Any]:
        """What `nmctl sandbox check` shows."""
        return {
            "backend": self.name,
            "image": self.image.tag,
            "image_kind": self.image.kind,
            "python": self.image.python,
            "mounts": list(self.image.mounts),
            "stale": self.image.check_runtime(),
        }

    def run(self, job: Job, cancel: Cancel | None = None) -> Result:
        """Run one job to the end (or until `cancel`); never raises for what the job does.

        Raises:
            BackendUnavailable: the Docker daemon stopped answering during the job;
                its container is removed at the next start.
        """
        problem = tree_problem(job.tree)
        if problem:
            return Result(Outcome.ERROR, None, 0.0, detail=problem)
        if _abandoned:
            remove_abandoned(self.client)
        with staged(job, self.image.python, self.stage_root) as stage:
            try:
                return self._run_staged(job, stage, cancel)
            except DAEMON_GONE as exc:
                raise BackendUnavailable(
                    f"the Docker daemon stopped answering during job {job.name}: {exc}"
                ) from exc

    def _run_staged(self, job: Job, stage: Path, cancel: Cancel | None) -> Result:
        try:
            container = self.client.containers.create(**self._spec(job, stage))
        except docker.errors.APIError as exc:
            return classify(None, wall_time=0.0, launcher_error=f"cannot create: {exc}")
        try:
            with cancellable(cancel, lambda: self._kill(container)):
                return self._start_and_wait(container, job, cancel)
        finally:
            self._remove(container)

    def _kill(self, container: Any) -> None:
        """Kill a cancelled job's container (its removal follows as for any job)."""
        with contextlib.suppress(docker.errors.APIError, *DAEMON_GONE):
            container.kill()

    def _remove(self, container: Any) -> None:
        """Remove the job's container; if the daemon is gone, leave it for the next start."""
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except DAEMON_GONE as exc:
            with _abandoned_lock:
                _abandoned.add(container.id)
            log.warning("could not remove container %s: %s", container.id[:12], exc)

    def _start_and_wait(self, container: Any, job: Job, cancel: Cancel | None) -> Result:
        started = time.monotonic()
        killed_for_time = False
        try:
            container.start()
        except docker.errors.APIError as exc:
            return classify(None, wall_time=0.0, launcher_error=f"cannot start: {exc}")
        if cancel is not None and cancel.is_set():  # cancelled before it was running
            self._kill(container)
        try:
            container.wait(timeout=job.limits.timeout + GRACE)
        except DAEMON_GONE as exc:
            if not _timed_out(exc):
                raise
            killed_for_time = True
            with contextlib.suppress(docker.errors.APIError):  # it ended by itself meanwhile
                container.kill()
            container.wait(timeout=30)
        wall_time = time.monotonic() - started
        container.reload()
        state = container.attrs["State"]
        stdout = container.logs(stdout=True, stderr=False)
        stderr = container.logs(stdout=False, stderr=True)
        return classify(
            parse_report(stdout),
            wall_time=wall_time,
            killed_for_time=killed_for_time,
            oom_killed=bool(state.get("OOMKilled")),
            launcher_error=stderr.decode("utf-8", "replace"),
        )

    def _spec(self, job: Job, stage: Path) -> dict[str, Any]:
        limits = job.limits
        mounts = [
            Mount(SRC, str(Path(job.tree).resolve()), type="bind", read_only=True),
            Mount(JOB, str(stage), type="bind", read_only=True),
            Mount(f"{LIB}/nmrunners", str(RUNNERS.resolve()), type="bind", read_only=True),
            *(Mount(m, m, type="bind", read_only=True) for m in self.image.mounts),
        ]
        if job.port is not None:
            mounts.append(Mount(PORT, str(Path(job.port).resolve()), type="bind", read_only=True))
        tmpfs_opts = f"rw,nosuid,nodev,size={limits.scratch}"
        log_bytes = 8 * (2 * limits.output + limits.result) + 1024**2
        return {
            "image": self.image.tag,
            "command": [self.image.python, "-m", "nmrunners.launch", f"{JOB}/job.json"],
            "environment": {"PYTHONPATH": LIB, "PYTHONDONTWRITEBYTECODE": "1"},
            "user": f"{images.SANDBOX_UID}:{images.SANDBOX_UID}",
            "working_dir": WORK,
            "network_mode": "none",
            "read_only": True,
            "tmpfs": {
                "/tmp": tmpfs_opts,
                WORK: f"{tmpfs_opts},uid={images.SANDBOX_UID},gid={images.SANDBOX_UID}",
            },
            "mounts": mounts,
            "shm_size": limits.shm,
            "mem_limit": limits.memory,
            "memswap_limit": limits.memory,
            "nano_cpus": int(limits.cpus * 1e9),
            "pids_limit": limits.pids,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "ulimits": [
                Ulimit(name="core", soft=0, hard=0),
                Ulimit(name="nofile", soft=1024, hard=1024),
            ],
            "labels": reaper.labels(job.name),
            "log_config": LogConfig(
                type="json-file", config={"max-size": str(log_bytes), "max-file": "1"}
            ),
            "hostname": "sandbox",
            "stop_signal": "SIGKILL",
            "detach": True,
        }
