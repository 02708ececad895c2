"""Tuning cycles of code targets scored by a metric or a gym return, on real git repositories.

Candidates run through the local fake backend (no isolation: see
tests/fakes/local_backend.py) so that whole cycles take seconds; the harness
that scores them is the real one, and tests/sandbox/test_objective.py runs it
in the real Docker sandbox.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from daemon.cli.main import main
from daemon.cycles import run_cycle
from daemon.cycles.objective import ObjectiveCycle
from daemon.cycles.scoring import scoring_seeds
from daemon.ledger import open_ledger
from daemon.registry import load_registry
from daemon.registry.objective import GymObjective, MetricObjective
from daemon.store import open_store
from policies.neuro.accept import compare
from policies.neuro.evolve import HOLDOUT
from policies.status import CycleStatus

TIP = """\
RATE = 0.1


def tip(amount):
    \"\"\"The tip on a bill: the more the better, within what the tests allow.\"\"\"
    return amount * RATE


def add(a, b):
    return a + b
"""
TIP_TESTS = """\
from calc.ops import add, tip


def test_add():
    assert add(2, 3) == 5


def test_a_tip_stays_modest():
    assert tip(100.0) <= 12.5
"""
METRIC = """\
from calc.ops import tip


def score():
    return tip(100.0)
"""
CONTROLLER = """\
def act(observation):
    \"\"\"Push the cart the way the pole leans, looking ahead by its angular velocity.\"\"\"
    angle, spin = observation[2], observation[3]
    return 1 if angle + 0.01 * spin > 0 else 0
"""
CONTROLLER_TESTS = """\
from calc.ops import act


def test_actions_are_zero_or_one():
    assert {act([0.0, 0.0, a, s]) for a in (-0.1, 0.1) for s in (-1.0, 1.0)} <= {0, 1}
"""
TARGET = """\
name = "calc"
repo = "{{state}}/bots/calc"
example = "{example}"
files = ["calc/ops.py"]
tests = ["tests"]

[objective]
{objective}

[budget]
candidates = {candidates}
seconds = 600

[sandbox]
timeout = "30s"
batch = 40
"""


def make(tmp_path: Path, ops: str, tests: str, objective: str, candidates: int = 120, **files):
    example = tmp_path / "example"
    (example / "calc").mkdir(parents=True)
    (example / "tests").mkdir()
    (example / "calc" / "__init__.py").write_text("")
    (example / "calc" / "ops.py").write_text(ops)
    (example / "tests" / "test_ops.py").write_text(tests)
    for name, text in files.items():
        (example / f"{name}.py").write_text(text)
    targets, state = tmp_path / "targets", tmp_path / "state"
    targets.mkdir()
    state.mkdir()
    text = TARGET.format(example=example, objective=objective, candidates=candidates)
    (targets / "calc.toml").write_text(text)
    return load_registry(targets, state).get("calc"), state


def cycle(spec, state, backend):
    with open_store(state) as store:
        return run_cycle(spec, state, backend, store)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    return done.stdout.strip()


def rate(spec) -> float:
    return float(re.search(r"RATE = ([0-9.e-]+)", (spec.repo / "calc/ops.py").read_text())[1])


METRIC_OBJECTIVE = 'kind = "metric"\nentry = "metric:score"\nrepeat = 2\nholdout = 30'


@pytest.mark.slow  # a whole climb of the metric: about 8 s
def test_a_metric_is_climbed_and_committed_without_breaking_a_test(tmp_path, local_backend, capsys):
    spec, state = make(tmp_path, TIP, TIP_TESTS, METRIC_OBJECTIVE, metric=METRIC)
    report = cycle(spec, state, local_backend)
    assert report.status == CycleStatus.ACCEPTED, report.reason
    assert rate(spec) == 0.121  # 0.1 -> 0.11 -> 0.121; 0.1331 broke the test: never committed
    assert report.best_score > report.baseline_score == pytest.approx(10.0)
    subject = git(spec.repo, "log", "-1", "--format=%s")
    assert "metric 10 -> " in subject and "over 30 runs" in subject
    assert git(spec.repo, "status", "--porcelain") == ""
    [commit] = open_ledger(spec).log("calc")[:1]
    assert commit["trailers"]["Objective"] == "metric"
    where = ["--targets", str(spec.source.parent), "--state", str(state)]
    assert main(["log", "calc", *where]) == 0
    shown = capsys.readouterr().out
    assert "metric 10 -> 12.1" in shown and "metric 10 -> 12.1 over 30 held-out runs" in shown


@pytest.mark.slow  # the same climb as the maximised metric, the other way
def test_a_minimised_metric_is_lowered(tmp_path, local_backend):
    objective = METRIC_OBJECTIVE + '\ndirection = "minimize"'
    tests = TIP_TESTS.replace("<= 12.5", ">= 8.5")
    spec, state = make(tmp_path, TIP, tests, objective, metric=METRIC)
    report = cycle(spec, state, local_backend)
    assert report.status == CycleStatus.ACCEPTED, report.reason
    assert rate(spec) == 0.09
    assert "metric 10 -> " in git(spec.repo, "log", "-1", "--format=%s")


@pytest.mark.slow  # a whole climb that gains nothing: about 3 s
def test_no_gain_means_no_commit(tmp_path, local_backend):
    flat = METRIC.replace("return tip(100.0)", "return 1.0 + 0 * tip(100.0)")
    spec, state = make(tmp_path, TIP, TIP_TESTS, METRIC_OBJECTIVE, metric=flat)
    report = cycle(spec, state, local_backend)
    assert report.status == CycleStatus.REJECTED
    assert "beat the committed code's training metric 1" in report.reason
    assert git(spec.repo, "rev-list", "--count", "HEAD") == "1"


def test_failing_tests_at_baseline_are_an_error_not_a_tuning(tmp_path, local_backend):
    broken = TIP_TESTS.replace("== 5", "== 6")
    spec, state = make(tmp_path, TIP, broken, METRIC_OBJECTIVE, metric=METRIC)
    report = cycle(spec, state, local_backend)
    assert report.status == CycleStatus.ERROR
    assert "1 of 2 tests fail" in report.reason and 'kind = "tests"' in report.reason


@pytest.mark.slow  # real CartPole episodes: 3 per candidate, 200 held out
def test_a_gym_controller_is_tuned_and_the_commit_says_what_moved(tmp_path, local_backend):
    objective = 'kind = "gym"\nenv = "CartPole-v1"\nentry = "calc.ops:act"\nepisodes = 3'
    detuned = CONTROLLER.replace("angle + 0.01 * spin", "angle + 0.01 * spin - 0.05")
    spec, state = make(tmp_path, detuned, CONTROLLER_TESTS, objective, candidates=60)
    report = cycle(spec, state, local_backend)
    assert report.status == CycleStatus.ACCEPTED, report.reason
    subject = git(spec.repo, "log", "-1", "--format=%s")
    assert re.search(r"\(return [0-9.]+ -> [0-9.]+ over 100 held-out episodes\)", subject)
    assert report.best_score > report.baseline_score


@pytest.mark.slow  # a whole climb before the revert
def test_a_verification_that_finds_no_gain_reverts(tmp_path, local_backend, monkeypatch):
    monkeypatch.setattr(ObjectiveCycle, "verify", lambda self: "no gain on fresh seeds")
    spec, state = make(tmp_path, TIP, TIP_TESTS, METRIC_OBJECTIVE, metric=METRIC)
    report = cycle(spec, state, local_backend)
    assert report.status == CycleStatus.REVERTED
    assert rate(spec) == 0.1 and git(spec.repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("scores", [[3.0] * 30, [float(i % 7) for i in range(100)]])
def test_a_change_identical_to_the_committed_code_never_passes(scores):
    assert not compare(np.array(scores), np.array(scores)).accepted


def test_held_out_seeds_are_never_training_seeds():
    objective = GymObjective(kind="gym", env="CartPole-v1", entry="a:b", episodes=50)
    training, held = set(), set()
    for number in range(1, 40):
        seeds = scoring_seeds(objective, number)
        assert not set(seeds["acceptance"]) & set(seeds["verification"])
        training |= set(seeds["training"])
        held |= set(seeds["acceptance"]) | set(seeds["verification"])
    assert not training & held
    assert max(training) < HOLDOUT <= min(held)


def test_a_metric_has_repetitions_not_seeds():
    objective = MetricObjective(kind="metric", entry="a:b", repeat=4, holdout=30)
    seeds = scoring_seeds(objective, 3)
    assert (len(seeds["training"]), len(seeds["acceptance"])) == (4, 30)
