"""A parent killed with SIGKILL mid-job leaves a container; start-up reaps it."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import docker

from sandbox import image, reaper
from sandbox.docker_backend import DockerBackend
from sandbox.staging import sweep

PARENT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from sandbox.docker_backend import DockerBackend
    from sandbox.job import Job, Limits

    backend = DockerBackend(Path(sys.argv[1]))
    backend.run(Job(tree=Path(sys.argv[2]), command=["{python}", "-c", "while True: pass"],
                    limits=Limits(timeout=300), name="doomed"))
    """
)


def _containers_of(client: docker.DockerClient, pid: int) -> list:
    found = client.containers.list(all=True, filters={"label": reaper.PRODUCT_LABEL})
    return [c for c in found if c.labels[reaper.OWNER_LABEL].split("/")[1] == str(pid)]


def test_containers_of_a_killed_parent_are_reaped(docker_client, tmp_path):
    state, tree = tmp_path / "state", tmp_path / "tree"
    tree.mkdir()
    events = docker_client.events(
        decode=True, filters={"label": f"{reaper.JOB_LABEL}=doomed", "event": "start"}
    )
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(state), str(tree)])
    try:
        for event in events:  # blocks until the container really started
            if event["Actor"]["Attributes"][reaper.OWNER_LABEL].split("/")[1] == str(parent.pid):
                break
    finally:
        events.close()
    parent.send_signal(signal.SIGKILL)
    parent.wait()

    orphans = _containers_of(docker_client, parent.pid)
    assert len(orphans) == 1 and orphans[0].status == "running"
    assert list((state / "run" / "jobs").iterdir())  # its job directory was left too

    DockerBackend(state, client=docker_client)  # start-up reaps and sweeps

    assert _containers_of(docker_client, parent.pid) == []
    assert list((state / "run" / "jobs").iterdir()) == []


def test_containers_of_live_processes_are_left_alone(docker_client, tmp_path):
    container = docker_client.containers.create(
        image.offline_tag(), command=["/nonexistent"], labels=reaper.labels("alive")
    )
    try:
        assert container.name not in reaper.reap(docker_client)
        container.reload()
        assert container.status == "created"
    finally:
        container.remove(force=True)


def test_sweep_keeps_directories_of_live_owners(tmp_path: Path):
    live, dead = tmp_path / "job-live", tmp_path / "job-dead"
    live.mkdir()
    dead.mkdir()
    (live / "owner").write_text(reaper.owner.token())
    (dead / "owner").write_text(reaper.owner.token().rsplit("/", 1)[0] + "/not-a-start-time")
    assert sweep(tmp_path) == [dead]
    assert live.exists()
