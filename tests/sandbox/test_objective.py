"""Scoring candidates by an objective in the batch harness: gym returns and metrics.

The environment runs in the harness and the candidate's policy in a child of
its own, so a candidate cannot forge its score; a broken entry fails its own
scoring and the batch goes on. Most tests use the local fake backend (no
isolation, same harness); one runs a real Docker sandbox.
"""

from __future__ import annotations

import re
import textwrap

import gymnasium as gym
import pytest

from sandbox.evaluate import STALL_GRACE, Candidate, batch_job, run_batch
from sandbox.job import Limits
from sandbox.runners.objective import NOT_SCORED, check

SEEDS = [0, 1, 2]
CONTROLLER = """\
def act(obs):
    return 1 if obs[3] > 0 else 0


class Pilot:
    def __init__(self):
        self.steps = 0

    def act(self, obs):
        self.steps += 1
        return act(obs)
"""
TREE = {
    "pilot/__init__.py": "",
    "pilot/controller.py": CONTROLLER,
    "pilot/util.py": "def double(x):\n    return 2 * x\n",
    "pilot/bench.py": "CALLS = []\n\n\ndef score():\n    CALLS.append(1)\n"
    "    return len(CALLS) / 2\n",
    "tests/test_util.py": "from pilot.util import double\n\n\ndef test_double():\n"
    "    assert double(2) == 4\n",
}
LIMITS = Limits(timeout=60.0)


def gym_objective(entry: str = "pilot.controller:act", **changes: object) -> dict:
    base = {"kind": "gym", "env": "CartPole-v1", "entry": entry, "seeds": SEEDS, "timeout": 30.0}
    return base | changes


def honest_returns(env_id: str = "CartPole-v1") -> list[float]:
    """The controller's returns, played here in the test's own process."""
    env = gym.make(env_id)
    returns = []
    for seed in SEEDS:
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(1 if obs[3] > 0 else 0)
            total, done = total + float(reward), terminated or truncated
        returns.append(total)
    return returns


def controller(source: str) -> dict[str, str]:
    return {"pilot/controller.py": textwrap.dedent(source)}


@pytest.fixture
def tree(make_tree):
    return make_tree(TREE)


def score(backend, tree, candidates, objective, limits=LIMITS):
    runs = run_batch(backend, tree, candidates, ["tests"], objective=objective, limits=limits)
    assert all(run.valid for run in runs), [run.reason for run in runs]
    return runs


def test_gym_scores_one_return_per_seed_exactly_and_the_same_every_time(local_backend, tree):
    first, second = (
        score(local_backend, tree, [Candidate("a")], gym_objective())[0] for _ in range(2)
    )
    assert first.scores == second.scores == tuple(honest_returns())
    assert len(set(first.scores)) > 1  # one return per seed, not one number repeated
    assert first.objective_error == ""
    assert first.env_steps == sum(first.scores)  # CartPole pays 1 per step


def test_a_class_with_act_scores_like_the_function(local_backend, tree):
    [run] = score(local_backend, tree, [Candidate("a")], gym_objective("pilot.controller:Pilot"))
    assert run.scores == tuple(honest_returns())


def test_a_candidate_whose_tests_fail_is_not_scored(local_backend, tree):
    broken = {"pilot/util.py": "def double(x):\n    return x\n"}
    runs = run_batch(
        local_backend,
        tree,
        [Candidate("broken", broken), Candidate("ok")],
        ["tests"],
        objective=gym_objective(),
        limits=LIMITS,
    )
    assert runs[0].scores is None and runs[0].objective_error == NOT_SCORED
    assert runs[0].env_steps == 0
    assert runs[1].scores == tuple(honest_returns())


def test_a_run_the_host_judges_invalid_has_no_scores(local_backend, tree):
    [run] = run_batch(
        local_backend,
        tree,
        [Candidate("a")],
        ["tests"],
        objective=gym_objective(),
        limits=LIMITS,
        min_collected=2,  # the tree has one test: the sandbox scored it, the host refuses it
    )
    assert not run.valid and run.scores is None
    assert run.objective_error == f"not scored: {run.reason}"


ACT = "import os\n\n\ndef act(obs):\n    {}\n".format


BROKEN = {
    "import": ("import no_such_module_here\n", "cannot import pilot.controller: ModuleNotFound"),
    "missing": ("def other(obs):\n    return 0\n", "pilot.controller has no act"),
    "raises": (ACT("return 1 / 0"), "raised ZeroDivisionError"),
    "out of range": (ACT("return 2"), "returned '2', not an int action of Discrete(2)"),
    "bool": (ACT("return True"), "returned 'true', not an int action"),
    "not json": (ACT("return object()"), "returned a object, which is not JSON"),
    "dies": (ACT("os._exit(3)"), "the scoring process ended (exit status 3)"),
    "hangs": (ACT("while True: pass"), "gave no answer within the scoring time limit of 4 s"),
}


@pytest.mark.slow  # real scoring runs: about 6 s
def test_a_broken_entry_fails_its_own_scoring_and_the_next_is_scored(local_backend, tree):
    candidates = []
    for name, (source, _) in BROKEN.items():
        candidates += [Candidate(name, controller(source)), Candidate(f"ok after {name}")]
    runs = score(local_backend, tree, candidates, gym_objective(timeout=4.0))
    honest = tuple(honest_returns())
    for (name, (_, error)), broken, ok in zip(BROKEN.items(), runs[::2], runs[1::2], strict=True):
        assert broken.scores is None, name
        assert broken.objective_error.startswith("pilot.controller:act: "), name
        assert error in broken.objective_error, (name, broken.objective_error)
        assert "\n" not in broken.objective_error
        assert ok.scores == honest, name
    assert "(seed 0, step 0)" in runs[-2].objective_error


PATCHES_GYMNASIUM = """\
import gymnasium
import gymnasium.envs.classic_control.cartpole as cartpole
import gymnasium.wrappers

def forged(step):
    def patched(self, action):
        obs, reward, terminated, truncated, info = step(self, action)
        return obs, 1e9, terminated, truncated, info
    return patched

for owner in (gymnasium.Env, cartpole.CartPoleEnv, gymnasium.wrappers.TimeLimit,
              gymnasium.wrappers.OrderEnforcing, gymnasium.Wrapper):
    owner.step = forged(owner.step)

def act(obs):
    return 1 if obs[3] > 0 else 0
"""


def test_patching_gymnasium_in_the_candidate_changes_nothing(local_backend, tree):
    runs = score(
        local_backend,
        tree,
        [Candidate("forger", controller(PATCHES_GYMNASIUM)), Candidate("honest")],
        gym_objective(),
    )
    assert runs[0].scores == runs[1].scores == tuple(honest_returns())


FORGES_RESULT = """\
import json

_dumps = json.dumps


def dumps(value, *args, **kwargs):
    if isinstance(value, list) and len(value) == 3 and value[1] == "result":
        value[2]["objective"] = {"scores": [1e9] * 3, "error": "", "steps": 3}
    return _dumps(value, *args, **kwargs)


json.dumps = dumps


def double(x):
    return 2 * x
"""


@pytest.mark.parametrize("objective", [None, gym_objective()], ids=["no objective", "gym"])
def test_an_objective_the_test_child_reports_is_discarded(local_backend, tree, objective):
    candidate = Candidate("forger", {"pilot/util.py": FORGES_RESULT})
    [run] = score(local_backend, tree, [candidate], objective)
    assert run.scores == (None if objective is None else tuple(honest_returns()))
    assert run.env_steps == (0 if objective is None else sum(honest_returns()))


PENDULUM = {"kind": "gym", "env": "Pendulum-v1", "entry": "pilot.controller:act"}


def test_a_box_action_is_clipped_and_checked(local_backend, tree):
    sources = {
        "in bounds": "def act(obs):\n    return [2.0]\n",
        "clipped": "import numpy as np\n\ndef act(obs):\n    return np.array([50.0], np.float32)\n",
        "wrong shape": "def act(obs):\n    return [1.0, 1.0]\n",
        "not finite": "def act(obs):\n    return [float('nan')]\n",
    }
    objective = PENDULUM | {"seeds": [4, 5], "timeout": 30.0}
    runs = score(
        local_backend, tree, [Candidate(n, controller(s)) for n, s in sources.items()], objective
    )
    assert runs[0].scores is not None and runs[0].scores == runs[1].scores
    assert runs[0].env_steps == 400  # Pendulum's time limit: 200 steps an episode
    assert "returned '[1.0, 1.0]', not an action of Box" in runs[2].objective_error
    assert "returned '[NaN]', which is not finite" in runs[3].objective_error


def test_a_metric_is_called_repeat_times_in_one_process(local_backend, tree):
    objective = {"kind": "metric", "entry": "pilot.bench:score", "repeat": 3, "timeout": 30.0}
    [run] = score(local_backend, tree, [Candidate("a")], objective)
    assert run.scores == (0.5, 1.0, 1.5)
    assert run.objective_error == "" and run.env_steps == 0


def test_a_metric_that_is_not_a_finite_number_is_an_error(local_backend, tree):
    sources = {
        "nan": ("def score():\n    return float('nan')\n", "returned 'NaN', not a finite number"),
        "text": ("def score():\n    return '3.5'\n", "returned '\"3.5\"', not a finite number"),
        "bool": ("def score():\n    return True\n", "returned 'true', not a finite number"),
        "huge": ("def score():\n    return 10 ** 400\n", "not a finite number"),
        "numpy": ("import numpy as np\n\ndef score():\n    return np.float32(0.25)\n", ""),
    }
    candidates = [Candidate(n, {"pilot/bench.py": s}) for n, (s, _) in sources.items()]
    objective = {"kind": "metric", "entry": "pilot.bench:score", "repeat": 2, "timeout": 30.0}
    runs = score(local_backend, tree, candidates, objective)
    for (name, (_, error)), run in zip(sources.items(), runs, strict=True):
        if error:
            assert run.scores is None and error in run.objective_error, (name, run.objective_error)
            assert run.objective_error.endswith("(call 1 of 2)")
    assert runs[-1].scores == (0.25, 0.25)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "tests"}, "objective kind 'tests': expected 'gym' or 'metric'"),
        ({"entry": "pilot.controller"}, "entry 'pilot.controller': expected 'module:name'"),
        ({"seeds": []}, "seeds []: expected a non-empty list of integers"),
        ({"seeds": [1, True]}, "seeds [1, True]: expected a non-empty list of integers"),
        ({"timeout": 0}, "timeout 0: expected a positive number of seconds"),
        ({"episodes": 3}, "gym objective: fields ['entry', 'env', 'episodes', 'kind', 'seeds'"),
    ],
)
def test_a_bad_objective_is_refused_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check(gym_objective(**changes))


def test_the_batch_allows_for_the_scoring_time(tree):
    limits = Limits(timeout=10.0)
    plain = batch_job(tree, [Candidate("a"), Candidate("b")], limits=limits)
    scored = batch_job(
        tree, [Candidate("a"), Candidate("b")], limits=limits, objective=gym_objective()
    )
    extra = 30.0 + STALL_GRACE  # the objective's timeout, and time to clean up after it
    assert scored.limits.timeout == plain.limits.timeout + 2 * extra
    assert scored.watch.first == plain.watch.first + extra
    assert scored.watch.between == plain.watch.between + extra
    assert scored.payload["objective"] == check(gym_objective())
    assert "objective" not in plain.payload


def test_gym_scores_in_the_docker_sandbox(docker_backend, tree):
    slower = controller(CONTROLLER.replace("obs[3] > 0", "obs[2] > 0"))
    runs = score(docker_backend, tree, [Candidate("a"), Candidate("b", slower)], gym_objective())
    assert runs[0].scores == tuple(honest_returns())
    assert runs[1].scores is not None and runs[1].scores != runs[0].scores
    assert runs[1].env_steps == sum(runs[1].scores)


SLOW_METRIC = """\
import time


def score():
    started = time.monotonic()
    while time.monotonic() - started < 0.25:  # a measurement that takes its time
        pass
    return 1.0
"""


def test_a_candidates_time_counts_its_scoring_too(local_backend, make_tree):
    tree = make_tree({**TREE, "pilot/slow.py": SLOW_METRIC})
    objective = {"kind": "metric", "entry": "pilot.slow:score", "repeat": 4, "timeout": 30.0}
    [run] = score(local_backend, tree, [Candidate("a")], objective)
    assert run.scores == (1.0,) * 4
    assert run.result.wall_time >= 1.0  # what the budget is charged: tests and scoring
