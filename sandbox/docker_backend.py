"""The default backend: one disposable, locked-down Docker container per job."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests
from docker.types import LogConfig, Mount, Ulimit

from . import image as images
from . import reaper
from .errors import DockerPermissionDenied, NoDockerDaemon
from .job import JOB, LIB, SRC, WORK, Job, Outcome, Result
from .report import classify, parse_report
from .staging import staged, sweep, tree_problem

log = logging.getLogger(__name__)

RUNNERS = Path(__file__).parent / "runners"
GRACE = 15.0
"""Seconds past the job's own timeout before the container itself is killed:
the launcher kills the command at the timeout, this catches a stuck launcher."""


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

    def run(self, job: Job) -> Result:
        """Run one job to the end; never raises for what the job itself does."""
        problem = tree_problem(job.tree)
        if problem:
            return Result(Outcome.ERROR, None, 0.0, detail=problem)
        with staged(job, self.image.python, self.stage_root) as stage:
            try:
                container = self.client.containers.create(**self._spec(job, stage))
            except docker.errors.APIError as exc:
                return classify(None, wall_time=0.0, launcher_error=f"cannot create: {exc}")
            try:
                return self._start_and_wait(container, job)
            finally:
                with contextlib.suppress(docker.errors.NotFound):
                    container.remove(force=True)

    def _start_and_wait(self, container: Any, job: Job) -> Result:
        started = time.monotonic()
        killed_for_time = False
        try:
            container.start()
        except docker.errors.APIError as exc:
            return classify(None, wall_time=0.0, launcher_error=f"cannot start: {exc}")
        try:
            container.wait(timeout=job.limits.timeout + GRACE)
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            killed_for_time = True
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
        tmpfs_opts = f"rw,nosuid,nodev,size={limits.tmpfs}"
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
