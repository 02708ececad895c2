"""Cycles evaluated on a real two-node Ray cluster on loopback, against the same cycles here.

Each cycle is a real `nmctl cycle NAME --local` run inside the cluster's
network namespace, with ``[sandbox] where = "cluster"``: candidates and
genomes are evaluated by the nodes, each in its own Docker sandbox, while
git and the store stay with nmctl. The same target evaluated on this machine
must make the same commit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors import safe_open

from daemon.cluster.settings import ADDRESS
from sandbox import owner, reaper
from sandbox.cluster.node import NODE_STATE

from ..daemon.test_cycle import make_target as make_calc_target
from ..targets.test_alpha_example import ALPHA, DEFECTS, fixed

ROOT = Path(__file__).resolve().parents[2]
NMCTL = [sys.executable, "-m", "daemon.cli.main"]

ALPHA_TARGET = """\
name = "{name}"
repo = "{{state}}/bots/{name}"
example = "{example}"
files = ["alpha/*.py"]
tests = ["tests"]
[budget]
candidates = {candidates}
[sandbox]
memory = "512m"
timeout = "30s"
parallel = 2
batch = 25
where = "{where}"
"""


def _alpha_example(tmp_path: Path, left: str) -> Path:
    """The alpha example with every shipped defect fixed but `left`."""
    example = tmp_path / f"alpha-{left}"
    shutil.copytree(ALPHA, example)
    others = [name for name in DEFECTS if name != left]
    for path, text in fixed(others).items():
        (example / path).write_text(text)
    return example


def _cartpole_target(where: str) -> str:
    text = (ROOT / "targets" / "cartpole.toml").read_text()
    text = text.replace(
        'example = "examples/cartpole"', f'example = "{ROOT}/targets/examples/cartpole"'
    )
    return text.replace("parallel = 2", f'parallel = 2\nwhere = "{where}"')


def _cycle(tmp_path: Path, name: str, target: str, cluster=None) -> tuple[dict, Path]:
    """Run one forced cycle of a fresh target; its JSON report and its repository."""
    where = "cluster" if cluster else "local"
    targets, state = tmp_path / f"targets-{where}", tmp_path / f"state-{where}"
    targets.mkdir(exist_ok=True)
    (targets / f"{name}.toml").write_text(target)
    argv = [
        *NMCTL,
        "cycle",
        name,
        "--local",
        "--json",
        "--targets",
        str(targets),
        "--state",
        str(state),
    ]
    env = {**os.environ, ADDRESS: cluster.address} if cluster else dict(os.environ)
    options = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 600}
    done = cluster.command(argv, **options) if cluster else subprocess.run(argv, **options)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout), state / "bots" / name


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def _trees(cluster) -> list[set[str]]:
    """The trees each node has unpacked: one per target version it ran jobs of."""
    return [
        {p.name for p in (cluster.node_state(k) / "trees").glob("*")} for k in range(cluster.nodes)
    ]


def _jobs_ran_on_every_node(cluster) -> bool:
    return all(any((cluster.node_state(k) / "trees").glob("*")) for k in range(cluster.nodes))


def _node_of(cluster, owner_token: str) -> int | None:
    """The node whose worker process owns a container (its environment names the node)."""
    pid = owner_token.split("/")[1]
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for k in range(cluster.nodes):
        if f"{NODE_STATE}={cluster.node_state(k)}".encode() in environ:
            return k
    return None


def _until_jobs_started_on_every_node(cluster, events) -> None:
    """Read Docker's start events (subscribed with a bound) until every node started a job."""
    started = set()
    for event in events:
        node = _node_of(cluster, event["Actor"]["Attributes"].get(reaper.OWNER_LABEL, "x/0/"))
        started.add(node)
        if started >= set(range(cluster.nodes)):
            return
    pytest.fail(f"jobs started on nodes {sorted(k for k in started if k is not None)} only")


@pytest.mark.slow
def test_a_code_cycle_on_the_cluster_makes_the_same_commit_as_here(tmp_path, loopback_cluster):
    example = _alpha_example(tmp_path, "swapped_operands")
    target = {
        w: ALPHA_TARGET.format(name="alpha", example=example, candidates=3000, where=w)
        for w in ("local", "cluster")
    }
    here, repo_here = _cycle(tmp_path, "alpha", target["local"])
    there, repo_there = _cycle(tmp_path, "alpha", target["cluster"], loopback_cluster)
    assert here["status"] == there["status"] == "accepted"
    # The counts may differ by the batches in flight when the repair came (timing);
    # selection looks no further than the repair's batch, so the commit is the same.
    assert _git(repo_there, "rev-parse", "HEAD^{tree}") == _git(
        repo_here, "rev-parse", "HEAD^{tree}"
    )
    assert _git(repo_there, "log", "-1", "--format=%s") == _git(
        repo_here, "log", "-1", "--format=%s"
    )
    assert _jobs_ran_on_every_node(loopback_cluster)
    assert _git(repo_there, "status", "--porcelain") == ""


@pytest.mark.slow
def test_a_weights_cycle_on_the_cluster_commits_the_same_weights_as_here(
    tmp_path, loopback_cluster
):
    here, repo_here = _cycle(tmp_path, "cartpole", _cartpole_target("local"))
    before = _trees(loopback_cluster)
    there, repo_there = _cycle(tmp_path, "cartpole", _cartpole_target("cluster"), loopback_cluster)
    assert all(now - before[k] for k, now in enumerate(_trees(loopback_cluster)))  # both nodes
    assert here["status"] == there["status"] == "accepted"
    assert there["evolution"]["env_steps"] == here["evolution"]["env_steps"]
    # The same tensors and metadata (safetensors writes its metadata in no fixed order).
    files = [safe_open(r / "weights" / "policy.safetensors", "np") for r in (repo_here, repo_there)]
    assert files[0].metadata() == files[1].metadata()
    names = files[0].keys()
    assert names == files[1].keys()
    for key in names:
        assert (files[0].get_tensor(key) == files[1].get_tensor(key)).all(), key


@pytest.mark.slow
def test_a_node_lost_mid_cycle_leaves_a_finished_cycle_and_a_clean_repository(
    tmp_path, docker_client
):
    from daemon.cluster.loopback import LoopbackCluster

    root = tmp_path / "cluster"
    root.mkdir()
    root.chmod(0o755)
    # Only this cycle's containers count: other work may run sandboxes on this machine too.
    before = {c["Id"] for c in _product_containers(docker_client)}
    with LoopbackCluster(root, nodes=2, cpus=1, port=6391) as cluster:
        targets, state = tmp_path / "targets", tmp_path / "state"
        targets.mkdir()
        (targets / "alpha.toml").write_text(
            ALPHA_TARGET.format(name="alpha", example=ALPHA, candidates=75, where="cluster")
        )
        argv = [
            *NMCTL,
            "cycle",
            "alpha",
            "--local",
            "--json",
            "--targets",
            str(targets),
            "--state",
            str(state),
        ]
        env = {**os.environ, ADDRESS: cluster.address}
        events = docker_client.events(  # subscribed before the cycle starts, bounded
            decode=True,
            filters={"event": "start", "label": reaper.PRODUCT_LABEL},
            until=int(time.time()) + 120,
        )
        with subprocess.Popen(
            cluster.inside(argv),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as cycle:
            try:
                _until_jobs_started_on_every_node(cluster, events)
            finally:
                events.close()
            os.kill(cluster.raylet(1), signal.SIGKILL)
            out, err = cycle.communicate(timeout=600)
        assert cycle.returncode in (0, 1), err[-3000:]
        assert out.startswith("{"), (out[:2000], err[-3000:])
        report = json.loads(out)
        if report["status"] == "error":  # ended cleanly, saying why
            assert report["reason"]
        else:
            assert report["candidates"] == 75, report  # each counted once, none lost
    repo = state / "bots" / "alpha"
    assert _git(repo, "status", "--porcelain") == ""
    left = [
        c
        for c in _product_containers(docker_client)
        if c["Id"] not in before and c["Labels"][reaper.JOB_LABEL].startswith("alpha-cycle")
    ]
    owners = [c["Labels"][reaper.OWNER_LABEL] for c in left]
    assert not [o for o in owners if owner.alive(o)], "a container of a live process is left"
    reaper.reap(docker_client)  # what the next job on any node does first
    ours = {c["Id"] for c in left}
    assert not [c for c in _product_containers(docker_client) if c["Id"] in ours]


def _product_containers(docker_client) -> list[dict]:
    return docker_client.api.containers(all=True, filters={"label": reaper.PRODUCT_LABEL})


@pytest.mark.slow
def test_status_shows_every_node_ready_with_the_daemons_code(tmp_path, loopback_cluster):
    argv = [*NMCTL, "cluster", "status", "--json", "--state", str(tmp_path / "state")]
    env = {**os.environ, ADDRESS: loopback_cluster.address}
    done = loopback_cluster.command(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    status = json.loads(done.stdout)
    assert status["ok"] and status["address"] == loopback_cluster.address
    assert len(status["nodes"]) == 2
    for node in status["nodes"]:
        assert node["alive"] and node["docker"] and node["same_code"], node
        assert node["cpus"] == 1.0
        assert node["image"].startswith("neuromutant-sandbox:offline-")


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("unreachable", ["local", "fail"])
def test_an_unreachable_cluster_falls_back_or_fails_with_one_line(
    tmp_path, docker_client, unreachable
):
    # The small calc target (a cycle of seconds), its candidates sent to the cluster.
    targets, state = make_calc_target(tmp_path)
    state.chmod(0o700)
    calc = (targets / "calc.toml").read_text()
    (targets / "calc.toml").write_text(calc.replace("[sandbox]", '[sandbox]\nwhere = "cluster"'))
    address = f"127.0.0.1:{_closed_port()}"
    (state / "settings.toml").write_text(
        f'[cluster]\naddress = "{address}"\nunreachable = "{unreachable}"\n'
    )
    argv = [*NMCTL, "cycle", "calc", "--local", "--targets", str(targets), "--state", str(state)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    said = [line for line in done.stderr.splitlines() if address in line]
    assert len(said) == 1, done.stderr[-3000:]
    assert "unreachable" in said[0]
    if unreachable == "local":
        assert done.returncode == 0
        assert "evaluating on this machine instead" in said[0]
        assert "ACCEPTED" in done.stdout
    else:
        assert done.returncode == 1
        assert said[0].startswith("nmctl: calc: the Ray cluster at")


CANCEL = """
import json, sys, threading, time
from pathlib import Path
import docker
from daemon.cluster.connect import cluster_backend
from daemon.cluster.settings import ClusterSettings
from sandbox.cancel import Cancel
from sandbox.job import Job, Limits

backend = cluster_backend(ClusterSettings(sys.argv[1]))
never = "import signal; signal.pause()"
limits = Limits(timeout=300)
job = Job(Path(sys.argv[2]), ["{python}", "-c", never], limits=limits, name="cancel-me")
cancel = Cancel()
client = docker.from_env()

def say(what):
    print(f"{time.monotonic() - started:7.2f}s {what}", file=sys.stderr, flush=True)

mine = {"label": "neuromutant.job=cancel-me"}
# Docker's events, subscribed before the job: its start (within 60 s) and its removal.
starts = client.events(decode=True, filters={**mine, "event": "start"}, until=int(time.time()) + 60)
removals = client.events(
    decode=True, filters={**mine, "event": "destroy"}, until=int(time.time()) + 180
)

def cancel_once_running():
    if next(starts, None) is None:  # say why, then cancel what is pending
        import ray
        say(f"no container started; free: {ray.available_resources()}")
    say("cancel")
    cancel.set()

started = time.monotonic()
threading.Thread(target=cancel_once_running, daemon=True).start()
result = backend.run(job, cancel)
ended = time.monotonic() - started
say(f"ended: {result.outcome.value}")
if client.api.containers(all=True, filters=mine):
    next(removals, None)  # the node removes it as its task ends, after the answer came back
left = client.api.containers(all=True, filters=mine)
print(json.dumps({"outcome": result.outcome.value, "seconds": ended, "left": len(left)}))
"""


@pytest.mark.slow
def test_a_cancelled_job_is_ended_on_its_node_and_its_container_removed(tmp_path, loopback_cluster):
    tree = tmp_path / "tree"
    tree.mkdir()
    tree.chmod(0o755)
    argv = [sys.executable, "-c", CANCEL, loopback_cluster.address, str(tree)]
    try:
        done = loopback_cluster.command(argv, cwd=ROOT, capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"the cancelled job never ended: {(hung.stderr or '')[-3000:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["outcome"] == "killed", done.stderr[-3000:]
    assert report["seconds"] < 120  # not its 300 s limit
    assert report["left"] == 0, done.stderr[-3000:]


SWEEP = """
import json, sys, time
import docker
from daemon.cluster.connect import cluster_backend
from daemon.cluster.settings import ClusterSettings

backend = cluster_backend(ClusterSettings(sys.argv[1]))
client = docker.from_env()
orphan = {"label": "neuromutant.job=orphan"}
removals = client.events(
    decode=True, filters={**orphan, "event": "destroy"}, until=int(time.time()) + 60
)
backend._sweep_nodes()  # what a forced cancel asks of every node
if client.api.containers(all=True, filters=orphan):
    next(removals, None)  # its removal, or the bound
print(json.dumps({"left": len(client.api.containers(all=True, filters=orphan))}))
"""
ORPHAN = """
import sys
from pathlib import Path
from sandbox.docker_backend import DockerBackend
from sandbox.job import Job, Limits

DockerBackend(Path(sys.argv[1])).run(
    Job(Path(sys.argv[2]), ["{python}", "-c", "import signal; signal.pause()"],
        limits=Limits(timeout=300), name="orphan")
)
"""


@pytest.mark.slow
def test_after_a_forced_cancel_every_node_removes_containers_of_dead_workers(
    tmp_path, loopback_cluster, docker_client
):
    tree = tmp_path / "tree"
    tree.mkdir()
    tree.chmod(0o755)
    events = docker_client.events(
        decode=True, filters={"label": f"{reaper.JOB_LABEL}=orphan", "event": "start"}
    )
    worker = subprocess.Popen([sys.executable, "-c", ORPHAN, str(tmp_path / "s"), str(tree)])
    try:
        next(events)  # its container runs: then its owner dies, as a killed worker does
    finally:
        events.close()
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    argv = [sys.executable, "-c", SWEEP, loopback_cluster.address]
    done = loopback_cluster.command(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"left": 0}, done.stderr[-3000:]


@pytest.mark.slow
def test_nmd_drives_its_cycles_on_the_cluster(tmp_path, loopback_cluster):
    targets, state = tmp_path / "targets", tmp_path / "state"
    targets.mkdir()
    (targets / "cartpole.toml").write_text(_cartpole_target("cluster"))
    argv = [sys.executable, "-m", "daemon.service.nmd", "--targets", str(targets)]
    env = {**os.environ, ADDRESS: loopback_cluster.address}
    with subprocess.Popen(
        loopback_cluster.inside([*argv, "--state", str(state)]),
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    ) as nmd:
        seen = []
        for line in nmd.stderr:  # until the first cycle ends, or nmd does
            seen.append(line)
            if "cartpole: cycle 1 " in line and "ROI" not in line:
                break
        nmd.send_signal(signal.SIGTERM)
        rest, _ = nmd.communicate(timeout=120)
    log = "".join(seen)
    assert "the Ray cluster at 127.0.0.1:" in log and "has 2 CPUs" in log
    assert "cartpole: evaluating on the Ray cluster at 127.0.0.1:" in log
    assert "cartpole: cycle 1 accepted" in log, (log + rest)[-3000:]
    assert nmd.returncode == 0
