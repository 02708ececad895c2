"""The remaining time of a cycle: its pace so far, extrapolated, capped by its budget."""

from __future__ import annotations

import pytest

from daemon.cycles.events import Evaluated, Generation
from daemon.service.eta import Budget, remaining


def generation(number: int, total: int | None, steps: int, wall: float) -> Generation:
    return Generation(number, total, 1.0, 0.5, 1.0, steps, wall)


def test_a_code_cycle_extrapolates_its_candidates_per_second():
    budget = Budget("code", 300.0)
    # 100 of 400 candidates in the 50 s since the search began: 150 s to go.
    assert remaining(budget, Evaluated(100, 400, 0.5), 60.0, 50.0, "mutations") == 150.0


def test_a_code_cycle_never_outlives_its_deadline():
    budget = Budget("code", 300.0)
    assert remaining(budget, Evaluated(10, 3000, 0.5), 250.0, 200.0, "mutations") == 50.0
    assert remaining(budget, None, 20.0, None, "baseline") == 280.0  # no pace yet: the bound


def test_a_weights_cycle_takes_the_first_limit_it_reaches():
    budget = Budget("weights", 600.0, generations=60, env_steps=None)
    # 20 of 60 generations in 100 s: 200 s to go, within the 500 s the clock leaves.
    assert remaining(budget, generation(20, 60, 10_000, 100.0), 120.0) == pytest.approx(200.0)
    by_steps = Budget("weights", 600.0, generations=60, env_steps=20_000)
    assert remaining(by_steps, generation(20, 60, 10_000, 100.0), 120.0) == pytest.approx(100.0)
    by_clock = Budget("weights", 150.0, generations=60)
    assert remaining(by_clock, generation(20, 60, 10_000, 100.0), 120.0) == pytest.approx(50.0)


def test_a_resumed_run_keeps_its_pace_and_its_clock():
    # Its wall time counts the generations before the yield, as its budget does.
    budget = Budget("weights", 600.0, generations=10)
    assert remaining(budget, generation(8, 10, 1_000, 40.0), 5.0) == pytest.approx(10.0)


def test_past_the_search_there_is_no_estimate():
    budget = Budget("weights", 600.0, generations=10)
    assert remaining(budget, generation(10, 10, 1_000, 40.0), 50.0, phase="verify") is None


def test_the_budget_of_a_target_with_its_share(tmp_path):
    from daemon.registry import load_target

    path = tmp_path / "pole.toml"
    path.write_text(
        'name = "pole"\nkind = "weights"\nrepo = "/tmp/pole"\nenv = "CartPole-v1"\n'
        'network = "policy:Policy"\nweights = "w.safetensors"\n'
        '[budget]\ngenerations = 30\nseconds = "10m"\nenv_steps = 1000\n'
    )
    spec = load_target(path, tmp_path)
    assert Budget.of(spec, 0.25) == Budget("weights", 150.0, 8, 250)
