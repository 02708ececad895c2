"""The `[objective]` table of code targets: its kinds, defaults, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.errors import TargetError
from daemon.registry import load_target, score_unit
from daemon.registry.objective import GymObjective, MetricObjective, TestsObjective

HEAD = 'name = "bot"\nrepo = "/tmp/bot"\nfiles = ["bot/*.py"]\n'


def load(tmp_path: Path, objective: str):
    path = tmp_path / "bot.toml"
    path.write_text(HEAD + objective)
    return load_target(path, tmp_path / "state").config


def test_a_code_target_without_an_objective_repairs_against_its_tests(tmp_path):
    config = load(tmp_path, "")
    assert isinstance(config.objective, TestsObjective) and score_unit(config) == "tests"


def test_a_gym_objective_has_defaults_for_everything_but_env_and_entry(tmp_path):
    config = load(tmp_path, '[objective]\nkind = "gym"\nenv = "CartPole-v1"\nentry = "bot.p:act"')
    objective = config.objective
    assert isinstance(objective, GymObjective)
    assert (objective.episodes, objective.holdout, objective.margin) == (20, 100, 0.0)
    assert objective.timeout == 120.0 and score_unit(config) == "return"


def test_a_metric_objective_reads_its_direction(tmp_path):
    text = '[objective]\nkind = "metric"\nentry = "speed:score"\ndirection = "minimize"'
    objective = load(tmp_path, text).objective
    assert isinstance(objective, MetricObjective) and objective.sign == -1.0


@pytest.mark.parametrize(
    ("objective", "message"),
    [
        ('[objective]\nentry = "a:b"', "objective: missing: give its 'kind'"),
        ('[objective]\nkind = "fitness"', "'kind' must be one of 'tests', 'gym' or 'metric'"),
        ('[objective]\nkind = "gym"\nenv = "X-v0"\nentry = "pilot"', "objective.entry: 'pilot'"),
        ('[objective]\nkind = "gym"\nentry = "a:b"', "objective.env: missing"),
        ('[objective]\nkind = "gym"\nenv = "E"\nentry = "a:b"\nholdout = 5', "objective.holdout"),
        ('[objective]\nkind = "metric"\nentry = "a:b"\nrepeat = 2\nseeds = 3', "objective.seeds"),
        ('[objective]\nkind = "metric"\nentry = "a:b"\ntimeout = "2h"', "objective.timeout"),
    ],
)
def test_a_bad_objective_names_the_file_and_the_field(tmp_path, objective, message):
    with pytest.raises(TargetError) as caught:
        load(tmp_path, objective)
    assert str(tmp_path / "bot.toml") in str(caught.value) and message in str(caught.value)
