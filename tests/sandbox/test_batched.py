"""The runner's batched forward: numpy for plain MLPs, the same numbers as torch either way."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from sandbox.runners import gym_run
from sandbox.runners.batched import batched_forward

EXAMPLES = Path(__file__).parents[2] / "targets" / "examples"
KWARGS = {
    "lander": {"obs_dim": 8, "act_dim": 4, "hidden": [32, 32]},
    "cartpole": {"obs_dim": 4, "act_dim": 2, "hidden": [16]},
}


@pytest.fixture
def example_class(monkeypatch):
    """Load an example's ``policy:Policy`` as the runner does, each example in a clean import."""

    def load(name: str):
        monkeypatch.setattr(sys, "path", list(sys.path))
        monkeypatch.delitem(sys.modules, "policy", raising=False)
        return gym_run.load_class("policy:Policy", str(EXAMPLES / name))

    yield load
    sys.modules.pop("policy", None)


def population(cls, kwargs, count: int, seed: int = 0) -> list[nn.Module]:
    """`count` policies with random weights of the scale evolution gives them."""
    rng = np.random.default_rng(seed)
    size = sum(p.numel() for p in cls(**kwargs).parameters())
    return [
        gym_run.build_policy(cls, kwargs, torch.from_numpy(rng.normal(size=size).astype("f4")))
        for _ in range(count)
    ]


def own_outputs(policies, obs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return np.stack([p(torch.from_numpy(obs[g])).numpy() for g, p in enumerate(policies)])


def observations(groups: int, envs: int, width: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((groups, envs, width)) * 3).astype(np.float32)


@pytest.mark.parametrize("name", ["lander", "cartpole"])
def test_the_examples_take_the_numpy_path_with_their_own_outputs(example_class, name):
    policies = population(example_class(name), KWARGS[name], 16)
    forward = batched_forward(policies)
    assert forward.kind == "numpy"
    obs = observations(16, 3, KWARGS[name]["obs_dim"])
    out = forward(obs)
    assert out.dtype == np.float32 and out.shape == (16, 3, KWARGS[name]["act_dim"])
    np.testing.assert_allclose(out, own_outputs(policies, obs), rtol=1e-4, atol=1e-5)


def test_one_policy_takes_the_numpy_path_too(example_class):
    policies = population(example_class("lander"), KWARGS["lander"], 1)
    forward = batched_forward(policies)
    assert forward.kind == "numpy"
    obs = observations(1, 5, 8)
    np.testing.assert_allclose(forward(obs), own_outputs(policies, obs), rtol=1e-4, atol=1e-5)


def test_a_policy_scores_the_same_alone_as_in_a_group(example_class):
    """Lockstep episodes must not depend on which other genomes share the batch."""
    policies = population(example_class("lander"), KWARGS["lander"], 8)
    obs = observations(8, 3, 8)
    together = batched_forward(policies)(obs)
    for g, policy in enumerate(policies):
        assert np.array_equal(batched_forward([policy])(obs[g : g + 1])[0], together[g])


def test_argmax_actions_agree_with_torch(example_class):
    policies = population(example_class("lander"), KWARGS["lander"], 32, seed=2)
    obs = observations(32, 500, 8, seed=3)
    got, want = batched_forward(policies)(obs), own_outputs(policies, obs)
    top2 = np.sort(want, axis=-1)[..., -2:]
    clear = top2[..., 1] - top2[..., 0] > 1e-4  # not a tie within float32 rounding
    assert clear.mean() > 0.99
    assert np.array_equal(got.argmax(-1)[clear], want.argmax(-1)[clear])


def test_the_observations_are_left_as_they_were(example_class):
    policies = population(example_class("cartpole"), KWARGS["cartpole"], 4)
    obs = observations(4, 3, 4)
    before = obs.copy()
    batched_forward(policies)(obs)
    assert np.array_equal(obs, before)


class Mlp(nn.Module):
    """A plain MLP spelled in the other ways fx records: Sequential, F.relu, a method call."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 12, bias=False))
        self.head = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.relu(self.body(x))
        return self.head(x.tanh()).sigmoid()


class Cumsum(Mlp):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(super().forward(x), dim=-1)


class Normed(Mlp):
    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(self.norm(x))


class Branchy(Mlp):
    """A Python branch on data: fx cannot trace it and vmap cannot batch it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return out if out.sum() > 0 else -out


class Residual(Mlp):
    """Only linear layers and activations, but not a chain."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.body[0](x))
        return self.head(h + self.body[2](h))


def randomized(cls, count: int) -> list[nn.Module]:
    torch.manual_seed(0)
    policies = [cls().eval() for _ in range(count)]
    for p in policies:  # LayerNorm starts as the identity: make it matter
        for param in p.parameters():
            nn.init.normal_(param)
    return policies


@pytest.mark.parametrize(
    ("cls", "count", "kind"),
    [
        (Mlp, 5, "numpy"),
        (Mlp, 1, "numpy"),
        (Cumsum, 5, "vmap"),
        (Normed, 5, "vmap"),
        (Residual, 5, "vmap"),
        (Cumsum, 1, "loop"),
        (Branchy, 5, "loop"),
    ],
)
def test_each_path_gives_each_policy_its_own_outputs(cls, count, kind):
    policies = randomized(cls, count)
    obs = observations(count, 3, 6)
    forward = batched_forward(policies)
    out = forward(obs)
    assert forward.kind == kind  # Branchy starts as vmap and falls back at its first call
    np.testing.assert_allclose(out, own_outputs(policies, obs), rtol=1e-4, atol=1e-5)


def test_a_policy_that_differs_from_its_group_is_not_compiled():
    """The probe compares every policy with its own forward, not only the first."""
    policies = randomized(Mlp, 3)
    policies[2].forward = lambda x: Mlp.forward(policies[2], x) * 2
    assert batched_forward(policies).kind == "vmap"


def test_a_forward_that_fails_everywhere_raises_its_error():
    policies = randomized(Mlp, 3)
    forward = batched_forward(policies)
    with pytest.raises(RuntimeError, match="mat1 and mat2"):
        forward(observations(3, 3, 5))  # 5 inputs where the layers take 6
