"""The gym runner in a real Docker sandbox: per-genome, per-seed returns, no network."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sandbox.gym_eval import GymEvaluator, GymTask, NamedWeights, describe_policy
from sandbox.job import Limits

EXAMPLE = Path(__file__).parents[2] / "targets" / "examples" / "cartpole"
TASK = GymTask("CartPole-v1", "policy:Policy", {"obs_dim": 4, "act_dim": 2, "hidden": [4]})
SIZE = 4 * 4 + 4 + 4 * 2 + 2
SEEDS = [11, 12]


class Flat:
    def __init__(self, policy, **kwargs):
        self.policy = np.asarray(policy, dtype=np.float32)
        self.policy_kwargs = kwargs


def balancer() -> Flat:
    """A hand-made linear controller (no hidden layer) that balances the pole."""
    weights = np.zeros((2, 4), dtype=np.float32)
    weights[1] = [0.01, 0.1, 1.0, 0.5]
    return Flat(np.concatenate([weights.ravel(), np.zeros(2, np.float32)]), hidden=[])


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cartpole")
    shutil.copy(EXAMPLE / "policy.py", root / "policy.py")
    root.chmod(0o755)
    return root


@pytest.fixture
def evaluator(docker_backend, tree) -> GymEvaluator:
    limits = Limits(memory=1024**3, timeout=120.0)
    return GymEvaluator(docker_backend, tree, TASK, limits=limits, workers=2)


@pytest.mark.docker
def test_returns_per_genome_and_seed(evaluator):
    rng = np.random.default_rng(0)
    genomes = [Flat(rng.normal(size=SIZE)), balancer(), Flat(rng.normal(size=SIZE))]
    run = evaluator(genomes, SEEDS)
    assert run.errors == {}
    assert run.returns.shape == (3, 2)
    assert run.returns[1].tolist() == [500.0, 500.0]
    assert run.env_steps == int(run.lengths.sum()) >= 1000
    assert len(run.results) == 2  # two containers shared the population


@pytest.mark.docker
def test_a_genome_that_does_not_fit_fails_alone(evaluator):
    wrong = Flat(np.zeros(SIZE + 1))
    named = NamedWeights({"layers.0.weight": np.zeros((9, 9))}, {"hidden": []})
    run = evaluator([wrong, balancer(), named], SEEDS[:1])
    assert run.returns[1].tolist() == [500.0]
    assert np.isnan(run.returns[0]).all() and np.isnan(run.returns[2]).all()
    assert f"{SIZE + 1} weights given" in run.errors[0]
    assert f"has {SIZE} parameters" in run.errors[0]
    assert "layers.0.weight" in run.errors[2]
    assert run.fitness[0] == -np.inf


@pytest.mark.docker
def test_describe_reports_spaces_and_layout(docker_backend, tree):
    doc = describe_policy(docker_backend, tree, TASK)
    assert doc["action_space"] == {"kind": "discrete", "n": 2, "start": 0}
    assert doc["parameters"] == [
        ["layers.0.weight", [4, 4]],
        ["layers.0.bias", [4]],
        ["layers.1.weight", [2, 4]],
        ["layers.1.bias", [2]],
    ]
    assert doc["size"] == SIZE


@pytest.mark.docker
def test_the_policy_has_no_network(docker_backend, tree, tmp_path):
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    (hostile / "policy.py").write_text(
        (EXAMPLE / "policy.py").read_text()
        + "\nimport socket\n"
        + "try:\n"
        + "    socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
        + "    NET = 'up'\n"
        + "except OSError:\n"
        + "    NET = 'down'\n"
        + "assert NET == 'down', 'the sandbox has a network'\n"
    )
    hostile.chmod(0o755)
    doc = describe_policy(docker_backend, hostile, TASK)
    assert doc["size"] == SIZE


@pytest.mark.docker
def test_an_unknown_environment_is_a_clear_error(docker_backend, tree):
    task = GymTask("NoSuchEnv-v0", "policy:Policy")
    with pytest.raises(ValueError, match="environment 'NoSuchEnv-v0': cannot make it"):
        describe_policy(docker_backend, tree, task)


def test_batched_episodes_equal_episodes_played_alone():
    """The lockstep batch (vmap over genomes) gives each genome what it gets alone."""
    import torch

    from sandbox.runners import gym_run

    cls = gym_run.load_class("policy:Policy", str(EXAMPLE))
    rng = np.random.default_rng(1)
    policies = [
        gym_run.build_policy(cls, TASK.network_kwargs, torch.from_numpy(rng.normal(size=SIZE)))
        for _ in range(3)
    ]
    together = gym_run.rollout("CartPole-v1", policies, SEEDS)
    alone = [gym_run.rollout("CartPole-v1", [p], SEEDS)["returns"][0] for p in policies]
    assert together["returns"] == alone
    assert together["env_steps"] == sum(map(sum, together["lengths"]))


@pytest.mark.parametrize("name", ["job.json", "owner", "../escape", "a/b", ".hidden", ""])
def test_job_files_are_plain_names_the_stage_does_not_use(name):
    from sandbox.job import Job

    with pytest.raises(ValueError, match="job file name"):
        Job(tree=Path("."), command=["true"], files={name: b""})
