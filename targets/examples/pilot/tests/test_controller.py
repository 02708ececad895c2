"""The controller's contract: a valid action for any observation, and a full flight runs.

No test here asserts a score: how well the pilot lands is the objective's business,
and its constants must stay free to change.
"""

import math
import random

import pytest
from pilot.controller import act

ACTIONS = {0, 1, 2, 3}
# LunarLander-v3's observation bounds: x, y, vx, vy, angle, spin, left leg, right leg.
LOW = [-2.5, -2.5, -10.0, -10.0, -2 * math.pi, -10.0, 0.0, 0.0]
HIGH = [2.5, 2.5, 10.0, 10.0, 2 * math.pi, 10.0, 1.0, 1.0]


def assert_valid(action):
    assert type(action) is int, f"{action!r} is a {type(action).__name__}, not an int"
    assert action in ACTIONS


def test_random_observations_get_valid_actions():
    rng = random.Random(16)
    for _ in range(2000):
        observation = [rng.uniform(lo, hi) for lo, hi in zip(LOW, HIGH, strict=True)]
        observation[6:] = [float(rng.random() < 0.2), float(rng.random() < 0.2)]
        assert_valid(act(observation))


@pytest.mark.parametrize(
    "observation",
    [
        [0.0] * 8,
        LOW,
        HIGH,
        [0.0, 0.0, 0.0, -0.5, 0.0, 0.0, 1.0, 1.0],  # both legs down, still falling
        [0.1, 0.0, 0.2, 0.0, 0.3, 0.5, 1.0, 0.0],  # one leg down, tilted
        [-0.1, 0.0, 0.0, 0.0, -0.3, -0.5, 0.0, 1.0],
        [0.0, 1.4, 0.0, 0.0, math.pi, 0.0, 0.0, 0.0],  # upside down
        [0.0, 1.4, 0.0, 0.0, -math.pi, 10.0, 0.0, 0.0],
        [2.5, 0.1, 10.0, -10.0, 2 * math.pi, -10.0, 0.0, 0.0],
        [-2.5, 2.5, -10.0, 10.0, -2 * math.pi, 10.0, 1.0, 1.0],
    ],
)
def test_edge_observations_get_valid_actions(observation):
    assert_valid(act(observation))


def test_numpy_observations_as_the_environment_gives_them():
    np = pytest.importorskip("numpy")
    observation = np.array([0.3, 1.2, -0.4, -0.6, 0.1, -0.2, 0.0, 0.0], dtype=np.float32)
    assert_valid(act(observation))
    assert act(observation) == act(observation.tolist())  # a pure function of the observation


def test_a_short_flight_runs():
    gym = pytest.importorskip("gymnasium")
    env = gym.make("LunarLander-v3")
    observation, _ = env.reset(seed=0)
    rewards = []
    for _ in range(300):  # a few seconds of flight at most, whatever the pilot does
        action = act(observation)
        assert_valid(action)
        observation, reward, terminated, truncated, _ = env.step(action)
        rewards.append(float(reward))
        if terminated or truncated:
            break
    env.close()
    assert rewards and math.isfinite(sum(rewards))
