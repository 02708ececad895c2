"""Long-lived gym sandboxes in real Docker: returns per genome and seed, replacement, limits."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from sandbox.gym_eval import GymTask, NamedWeights
from sandbox.gym_pool import GymPool
from sandbox.gym_worker import GymWorker
from sandbox.job import Limits
from sandbox.runners import gym_run

EXAMPLE = Path(__file__).parents[2] / "targets" / "examples" / "cartpole"
TASK = GymTask("CartPole-v1", "policy:Policy", {"obs_dim": 4, "act_dim": 2, "hidden": [4]})
SIZE = 4 * 4 + 4 + 4 * 2 + 2
SEEDS = [11, 12]
LIMITS = Limits(memory=1024**3, timeout=120.0)


class Flat:
    def __init__(self, policy, **kwargs):
        self.policy = np.asarray(policy, dtype=np.float32)
        self.policy_kwargs = kwargs


def balancer() -> Flat:
    """A hand-made linear controller (no hidden layer) that balances the pole."""
    weights = np.zeros((2, 4), dtype=np.float32)
    weights[1] = [0.01, 0.1, 1.0, 0.5]
    return Flat(np.concatenate([weights.ravel(), np.zeros(2, np.float32)]), hidden=[])


def population(count: int, seed: int = 0) -> list[Flat]:
    rng = np.random.default_rng(seed)
    return [Flat(rng.normal(size=SIZE)) for _ in range(count)]


def policy_tree(root: Path, extra: str = "") -> Path:
    root.mkdir(exist_ok=True)
    (root / "policy.py").write_text((EXAMPLE / "policy.py").read_text() + extra)
    root.chmod(0o755)
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return policy_tree(tmp_path_factory.mktemp("trees") / "cartpole")


@pytest.fixture
def pool(docker_backend, tree, tmp_path):
    with GymPool(docker_backend, tree, TASK, port_root=tmp_path, limits=LIMITS, workers=2) as pool:
        yield pool


@pytest.mark.docker
def test_returns_per_genome_and_seed(pool):
    genomes = [*population(2), balancer()]
    run = pool(genomes, SEEDS)
    assert run.errors == {}
    assert run.returns.shape == (3, 2)
    assert run.returns[2].tolist() == [500.0, 500.0]
    assert run.env_steps == int(run.lengths.sum()) >= 1000
    again = pool(genomes, SEEDS)  # the same sandboxes, their environments reused
    assert again.returns.tolist() == run.returns.tolist()
    assert all(w is not None for w in pool.workers) and pool.replaced == 0
    # Sandbox time is start-up and requests: a pool waiting for its next request costs none.
    busy = pool.sandbox_seconds
    assert busy > 0 and pool.sandbox_seconds == busy


@pytest.mark.docker
def test_a_genome_that_does_not_fit_fails_alone(pool):
    wrong = Flat(np.zeros(SIZE + 1))
    named = NamedWeights({"layers.0.weight": np.zeros((9, 9))}, {"hidden": []})
    run = pool([wrong, balancer(), named], SEEDS[:1])
    assert run.returns[1].tolist() == [500.0]
    assert np.isnan(run.returns[0]).all() and np.isnan(run.returns[2]).all()
    assert f"{SIZE + 1} weights given" in run.errors[0]
    assert f"has {SIZE} parameters" in run.errors[0]
    assert "layers.0.weight" in run.errors[2]
    assert run.fitness[0] == -np.inf


@pytest.mark.docker
def test_describe_reports_spaces_and_layout(pool):
    doc = pool.describe()
    assert doc["action_space"] == {"kind": "discrete", "n": 2, "start": 0}
    assert doc["parameters"] == [
        ["layers.0.weight", [4, 4]],
        ["layers.0.bias", [4]],
        ["layers.1.weight", [2, 4]],
        ["layers.1.bias", [2]],
    ]
    assert doc["size"] == SIZE
    assert pool.describe({"hidden": [3]})["size"] == 4 * 3 + 3 + 3 * 2 + 2


@pytest.mark.docker
def test_a_worker_killed_mid_generation_is_replaced_with_identical_results(pool, monkeypatch):
    genomes = population(8, seed=3)
    undisturbed = pool(genomes, SEEDS)
    killed: list[GymWorker] = []
    send, once = GymWorker.send, threading.Lock()

    def die_then_send(self, doc, blob=b""):
        with once:  # the workers send side by side: only the first one dies
            dies = doc.get("op") == "evaluate" and not killed
            if dies:
                killed.append(self)
        if dies:
            self.kill()  # the sandbox dies as its slice of the generation is sent
            assert self.ended.wait(60)
        send(self, doc, blob)

    monkeypatch.setattr(GymWorker, "send", die_then_send)
    disturbed = pool(genomes, SEEDS)
    assert len(killed) == 1 and killed[0] not in pool.workers
    assert pool.replaced == 1
    assert disturbed.errors == {}
    assert disturbed.returns.tolist() == undisturbed.returns.tolist()
    assert disturbed.env_steps == undisturbed.env_steps


HANGS = """
import torch as _torch
_forward = Policy.forward
def _hang(self, obs):
    if float(self.layers[0].bias[0]) == 777.0:
        while True:
            pass
    return _forward(self, obs)
Policy.forward = _hang
"""


@pytest.mark.docker
def test_a_hanging_slice_is_killed_and_the_pool_goes_on(docker_backend, tmp_path):
    tree = policy_tree(tmp_path / "hangs", HANGS)
    limits = Limits(memory=1024**3, timeout=2.0)
    stuck = population(2, seed=5)
    stuck[1].policy[4 * 4] = 777.0  # the first hidden unit's bias: this genome hangs
    with GymPool(
        docker_backend, tree, TASK, port_root=tmp_path, limits=limits, workers=2, retries=1
    ) as pool:
        run = pool([*population(2), *stuck], SEEDS[:1])
        assert np.isfinite(run.returns[:2]).all()
        assert set(run.errors) == {2, 3}
        assert "lost 2 sandboxes in a row" in run.errors[3]
        assert pool.replaced == 2
        assert np.isfinite(pool(population(2), SEEDS[:1]).returns).all()  # a fresh sandbox


PROBES = """
import os as _os, socket as _socket
def _probe():
    found = []
    try:
        _socket.create_connection(("1.1.1.1", 53), timeout=2)
        found.append("network")
    except OSError:
        pass
    for path in ("/sandbox/src/x", "/x", "/sandbox/port/x", "/sandbox/job/x"):
        try:
            open(path, "w").close()
            found.append(path)
        except OSError:
            pass
    if _os.getuid() == 0:
        found.append("root")
    return found
_init = Policy.__init__
def _checked(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    if kwargs.get("hidden") == [1]:
        raise RuntimeError(f"escaped: {_probe()}")
    if kwargs.get("hidden") == [2]:
        self.hog = bytearray(2 * 1024**3)  # past the memory cap
Policy.__init__ = _checked
"""


@pytest.mark.docker
def test_the_evaluator_has_todays_limits(docker_backend, tmp_path):
    tree = policy_tree(tmp_path / "probes", PROBES)
    limits = Limits(memory=512 * 1024**2, timeout=60.0)
    with GymPool(
        docker_backend, tree, TASK, port_root=tmp_path, limits=limits, workers=1, retries=0
    ) as pool:
        probe = Flat(np.zeros(4 * 1 + 1 + 1 * 2 + 2), hidden=[1])
        run = pool([probe], SEEDS[:1])
        assert run.errors[0].endswith("escaped: []')")  # no network, nothing writable, not root
        hog = Flat(np.zeros(4 * 2 + 2 + 2 * 2 + 2), hidden=[2])
        run = pool([hog], SEEDS[:1])
        assert "MemoryError" in run.errors[0] or "oom" in run.errors[0]


@pytest.mark.docker
def test_an_unknown_environment_is_a_clear_error(docker_backend, tree, tmp_path):
    task = GymTask("NoSuchEnv-v0", "policy:Policy")
    with GymPool(docker_backend, tree, task, port_root=tmp_path, workers=1) as pool:
        with pytest.raises(ValueError, match="environment 'NoSuchEnv-v0': cannot make it"):
            pool.describe()
        run = pool([balancer()], SEEDS)
        assert "cannot make it" in run.errors[0]
        assert pool.replaced == 0  # a broken target is not a lost sandbox


@pytest.mark.bwrap
def test_bubblewrap_sandboxes_serve_too(bwrap_backend, tree, tmp_path):
    with GymPool(bwrap_backend, tree, TASK, port_root=tmp_path, limits=LIMITS) as pool:
        run = pool([balancer(), *population(3)], SEEDS)
    assert run.errors == {} and run.returns[0].tolist() == [500.0, 500.0]


def torch_policies(count: int, seed: int) -> list:
    """Random policies of the task's network, built as the runner builds them."""
    import torch

    cls = gym_run.load_class("policy:Policy", str(EXAMPLE))
    rng = np.random.default_rng(seed)
    return [
        gym_run.build_policy(cls, TASK.network_kwargs, torch.from_numpy(rng.normal(size=SIZE)))
        for _ in range(count)
    ]


def test_batched_episodes_equal_episodes_played_alone():
    """The lockstep batch (one forward over genomes) gives each genome what it gets alone."""
    policies = torch_policies(3, seed=1)
    together = gym_run.rollout("CartPole-v1", policies, SEEDS)
    alone = [gym_run.rollout("CartPole-v1", [p], SEEDS)["returns"][0] for p in policies]
    assert together["returns"] == alone
    assert together["env_steps"] == sum(map(sum, together["lengths"]))


def test_reused_environments_play_as_fresh_ones():
    """A long-lived runner keeps its environments: a seeded reset makes them as new."""
    policies = torch_policies(4, seed=2)
    stock = gym_run.EnvStock("CartPole-v1")
    first = gym_run.rollout("CartPole-v1", policies[:2], [5, 6, 7], stock=stock)
    reused = gym_run.rollout("CartPole-v1", policies[2:], [1, 2, 3], stock=stock)
    assert len(stock.envs) == 6
    fresh = gym_run.rollout("CartPole-v1", policies[2:], [1, 2, 3])
    assert reused["returns"] == fresh["returns"] and first["returns"] != fresh["returns"]


@pytest.mark.parametrize("name", ["job.json", "owner", "../escape", "a/b", ".hidden", ""])
def test_job_files_are_plain_names_the_stage_does_not_use(name):
    from sandbox.job import Job

    with pytest.raises(ValueError, match="job file name"):
        Job(tree=Path("."), command=["true"], files={name: b""})
