"""CMA-ES: maximises, goes diagonal on large networks, resumes to the same bits, is configurable."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from policies.neuro import (
    CMAES,
    Budget,
    CMAOptions,
    ConfigError,
    EvolutionConfig,
    MLPSpec,
    StructureOptions,
    evolve,
)
from policies.neuro.checkpoint import load_checkpoint, save_checkpoint
from policies.neuro.cmaes import DIAGONAL_ABOVE
from policies.neuro.evolve import CHECKPOINT

from .fakes import SPEC, FakeEvaluation, target_return

SMALL = MLPSpec(2, 1, (2,))  # 9 parameters
CENTER = np.linspace(-0.8, 0.8, SMALL.size)


def quadratic(strategy: CMAES) -> np.ndarray:
    """-||x - CENTER||^2 of each asked genome."""
    return np.array([-np.sum((g.policy - CENTER) ** 2) for g in strategy.ask()])


def test_it_maximises_a_quadratic():
    global_state = np.random.get_state()[1].copy()
    strategy = CMAES(SMALL, CMAOptions(population=13, sigma=0.3), seed=4)
    start = quadratic(strategy)[0]
    for _ in range(60):
        stats = strategy.tell(quadratic(strategy))
    assert np.array_equal(np.random.get_state()[1], global_state)  # only its own generator
    genome, fitness = strategy.best()
    assert start < -0.5 and fitness > -1e-4
    assert np.allclose(genome.policy, CENTER, atol=0.01)
    assert strategy.ask()[0].kind == "cmaes" and stats["diagonal"] == 0.0
    assert strategy.generation == 60 and 0 < stats["sigma"] < 0.3


def test_it_starts_at_the_committed_weights_or_a_seeded_random_init():
    flat = np.arange(SMALL.size, dtype=np.float32) / 10
    assert np.array_equal(CMAES(SMALL, seed=1, initial=flat).ask()[0].policy, flat)
    a, b, c = (CMAES(SMALL, seed=s).ask()[0].policy for s in (1, 1, 2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.all(np.abs(a) <= 1)  # torch's Linear init: +-1/sqrt(fan_in)


def test_the_diagonal_variant_is_chosen_above_the_threshold():
    large = MLPSpec(40, 4, (50,))
    assert SMALL.size <= DIAGONAL_ABOVE < large.size
    assert not CMAES(SMALL).diagonal and CMAES(large).diagonal
    assert CMAES(SMALL, CMAOptions(diagonal=True)).diagonal
    assert not CMAES(large, CMAOptions(diagonal=False)).es.opts["CMA_diagonal"]
    strategy = CMAES(large, CMAOptions(population=9))
    assert strategy.es.opts["CMA_diagonal"] is True
    fitness = np.array([-float(np.sum(g.policy**2)) for g in strategy.ask()])
    assert strategy.tell(fitness)["diagonal"] == 1.0


def test_failed_genomes_rank_last():
    strategy = CMAES(SMALL, CMAOptions(population=5), seed=0)
    fitness = quadratic(strategy)
    fitness[2:] = [np.nan, -np.inf, np.inf]
    strategy.tell(fitness)
    assert np.all(np.isfinite(strategy.told)) and strategy.told[2] < fitness[:2].min()


@pytest.mark.parametrize("diagonal", [False, True])
@pytest.mark.parametrize("pending", [False, True])
def test_resume_from_a_state_gives_the_same_next_ask(tmp_path, diagonal, pending):
    options = CMAOptions(population=7, sigma=0.2, diagonal=diagonal)
    whole = CMAES(SMALL, options, seed=5)
    for _ in range(6):
        whole.tell(quadratic(whole))
    if pending:
        whole.ask()
    save_checkpoint(tmp_path / "c.npz", {"strategy": whole.state_dict()})
    np.random.seed(99)  # pycma's global generator must play no part
    resumed = CMAES(SMALL, CMAOptions(population=7), seed=123)  # rebuilt from the state alone
    resumed.load_state_dict(load_checkpoint(tmp_path / "c.npz")["strategy"])
    for _ in range(3):
        a, b = whole.ask(), resumed.ask()
        assert len(a) == 7 and all(x.same_bits(y) for x, y in zip(a, b, strict=True))
        assert whole.tell(quadratic(whole)) == resumed.tell(quadratic(resumed))
    assert whole.best()[0].same_bits(resumed.best()[0]) and resumed.generation == 9


def test_a_replay_that_diverges_says_so(caplog):
    strategy = CMAES(SMALL, CMAOptions(population=5), seed=0)
    strategy.tell(quadratic(strategy))
    state = strategy.state_dict()
    CMAES(SMALL).load_state_dict(state)
    assert "diverged" not in caplog.text
    state["mean"] = state["mean"] + 1e-12  # as if another pycma had computed it
    CMAES(SMALL).load_state_dict(state)
    assert "CMA-ES replay diverged from the checkpoint" in caplog.text


def test_a_resumed_run_gives_the_same_generations(tmp_path):
    config = EvolutionConfig(method="cmaes", population=9, seed=3)

    def run(generations: int, where: str):
        budget = Budget(generations=generations)
        strategy = config.strategy(SPEC)
        result = evolve(strategy, target_return, budget, seed=11, run_dir=tmp_path / where)
        return result, strategy

    whole, after_whole = run(5, "whole")
    run(2, "cut")  # then the process "dies"
    resumed, after_cut = run(5, "cut")  # a new process, fresh objects
    assert resumed.resumed_at == 2
    rows = [[r.row()[k] for k in ("best", "mean", "sigma", "env_steps")] for r in whole.history]
    assert rows == [
        [r.row()[k] for k in ("best", "mean", "sigma")] + [r.env_steps] for r in resumed.history
    ]
    assert resumed.champion.same_bits(whole.champion)
    a, b = after_whole.ask(), after_cut.ask()
    assert all(x.same_bits(y) for x, y in zip(a, b, strict=True))
    state = load_checkpoint(tmp_path / "cut" / CHECKPOINT)["strategy"]
    assert state["kind"] == "cmaes" and state["told"].shape == (45,)


def test_another_methods_state_is_refused():
    es_state = EvolutionConfig(method="es", population=9).strategy(SMALL).state_dict()
    with pytest.raises(ValueError, match="'es' state cannot resume a 'cmaes' run"):
        CMAES(SMALL).load_state_dict(es_state)


def test_the_config_builds_it_and_refuses_what_a_fixed_shape_cannot_do():
    flat = np.zeros(SPEC.size, np.float32)
    config = EvolutionConfig(method="cmaes", population=21, sigma=0.1, seed=2)
    strategy = config.strategy(SPEC, flat)
    assert isinstance(strategy, CMAES) and len(strategy.ask()) == 21
    assert strategy.options == CMAOptions(21, 0.1) and not strategy.diagonal
    assert EvolutionConfig(method="cmaes", diagonal=True).strategy(SPEC).diagonal
    assert EvolutionConfig.parse({"method": "cmaes", "diagonal": False}).diagonal is False
    for bad in ({"crossover": 0.2}, {"speciation": True}, {"structure": StructureOptions()}):
        with pytest.raises(ConfigError, match="cmaes has a fixed shape"):
            EvolutionConfig(method="cmaes", **bad)


WEIGHTS = """\
name = "pole"
kind = "weights"
repo = "{state}/bots/pole"
env = "CartPole-v1"
network = "policy:Policy"
network_kwargs = { obs_dim = 4, act_dim = 2, hidden = [16] }
weights = "weights/policy.safetensors"

[evolution]
method = "cmaes"
population = 25
sigma = 0.1
"""


def test_a_target_file_with_method_cmaes_validates(tmp_path):
    from daemon.registry import load_target

    path = tmp_path / "pole.toml"
    path.write_text(textwrap.dedent(WEIGHTS))
    config = load_target(path, tmp_path / "state").config
    assert config.evolution.method == "cmaes"
    run = config.evolution.config(generations=20, seed=7)
    assert isinstance(run.strategy(MLPSpec(4, 2, (16,))), CMAES) and run.sigma == 0.1


def flat_noise(strategy: CMAES, rng: np.random.Generator) -> np.ndarray:
    """Fitness that never improves on average: a search stuck on a plateau."""
    return rng.normal(size=len(strategy.ask()))


def test_a_stalled_search_restarts_with_a_doubled_population_at_most_restarts_times():
    options = CMAOptions(population=5, sigma=0.3, restarts=2, stall=4)
    strategy, rng = CMAES(SMALL, options, seed=1), np.random.default_rng(0)
    sizes, stats = [], {}
    for _ in range(60):
        sizes.append(len(strategy.ask()))
        stats = strategy.tell(flat_noise(strategy, rng))
    assert sizes[0] == 5 and sorted(set(sizes)) == [5, 10, 20]  # capped at two restarts
    assert sizes == sorted(sizes) and stats["restarts"] == 2.0 and stats["population"] == 20.0
    assert strategy.told.size == sum(sizes)


def test_a_restart_starts_from_the_committed_weights_or_fresh_random_ones():
    flat = np.full(SMALL.size, 0.25, np.float32)
    options = CMAOptions(population=5, restarts=1, stall=3)
    for initial in (flat, None):
        strategy, rng = CMAES(SMALL, options, seed=2, initial=initial), np.random.default_rng(1)
        first = strategy.ask()[0].policy
        while strategy.restarts == 0:
            strategy.tell(flat_noise(strategy, rng))
        centre = strategy.ask()[0].policy
        assert np.array_equal(centre, first) == (initial is not None)
        assert np.all(np.abs(centre) <= 1) and len(strategy.ask()) == 10


def test_no_restart_while_the_median_improves_nor_by_default():
    strategy = CMAES(SMALL, CMAOptions(population=13, sigma=0.3, restarts=3, stall=5), seed=4)
    for _ in range(40):
        strategy.tell(quadratic(strategy))
    assert strategy.restarts == 0
    plain, rng = CMAES(SMALL, CMAOptions(population=5), seed=1), np.random.default_rng(0)
    for _ in range(60):
        stats = plain.tell(flat_noise(plain, rng))
    assert plain.restarts == 0 and "restarts" not in stats


def test_slow_noisy_progress_is_no_stall():
    """Medians that rise slowly under noise set few records, but their windows still rise."""
    strategy = CMAES(SMALL, CMAOptions(population=5, restarts=1, stall=10), seed=0)
    rng = np.random.default_rng(7)
    for generation in range(100):
        strategy.tell(0.2 * generation + rng.normal(size=5))
    assert strategy.restarts == 0
    for _ in range(100):  # then a plateau
        strategy.tell(20 + rng.normal(size=strategy.population))
    assert strategy.restarts == 1


@pytest.mark.parametrize("pending", [False, True])
def test_resume_after_restarts_gives_the_same_bits(tmp_path, pending):
    options = CMAOptions(population=5, sigma=0.2, restarts=3, stall=3)
    whole, rng = CMAES(SMALL, options, seed=5), np.random.default_rng(3)
    while whole.restarts < 2:
        whole.tell(flat_noise(whole, rng))
    if pending:
        whole.ask()
    save_checkpoint(tmp_path / "c.npz", {"strategy": whole.state_dict()})
    resumed = CMAES(SMALL, CMAOptions(population=7), seed=123)  # the state's options win
    resumed.load_state_dict(load_checkpoint(tmp_path / "c.npz")["strategy"])
    assert resumed.restarts == 2 and resumed.options == CMAOptions(5, 0.2, False, 3, 3)
    twin = np.random.default_rng()
    twin.bit_generator.state = rng.bit_generator.state
    for _ in range(12):  # through the third restart
        a, b = whole.ask(), resumed.ask()
        assert len(a) == len(b) and all(x.same_bits(y) for x, y in zip(a, b, strict=True))
        assert whole.tell(flat_noise(whole, rng)) == resumed.tell(flat_noise(resumed, twin))
    assert whole.restarts == resumed.restarts == 3


def test_a_state_from_before_restarts_still_resumes(caplog):
    strategy = CMAES(SMALL, CMAOptions(population=5), seed=0)
    for _ in range(3):
        strategy.tell(quadratic(strategy))
    state = strategy.state_dict()
    for key in ("max_restarts", "stall", "growth", "from_random", "restarts"):
        del state[key]
    state["told"] = state["told"].reshape(3, 5)  # the old layout: a row per generation
    resumed = CMAES(SMALL)
    resumed.load_state_dict(state)
    assert "diverged" not in caplog.text and resumed.options == CMAOptions(5, 0.05, False)
    assert all(x.same_bits(y) for x, y in zip(strategy.ask(), resumed.ask(), strict=True))


def plateau(genomes, seeds) -> FakeEvaluation:
    """Returns that are noise alone (fixed by the seed and the genome's place): a stall."""
    rows = [[np.random.default_rng([s, i]).normal() for s in seeds] for i in range(len(genomes))]
    return FakeEvaluation(np.array(rows), 10 * len(genomes) * len(seeds))


@pytest.mark.slow  # two runs through restarts: about 4 s
def test_a_resumed_run_with_restarts_gives_the_same_generations(tmp_path):
    config = EvolutionConfig(method="cmaes", population=5, seed=3, restarts=2, stall=2)

    def run(generations: int, where: str):
        strategy = config.strategy(SPEC)
        budget = Budget(generations=generations)
        result = evolve(strategy, plateau, budget, seed=11, run_dir=tmp_path / where)
        return result, strategy

    whole, after_whole = run(40, "whole")
    assert after_whole.restarts == 2
    cut_at = next(r.generation for r in whole.history if r.stats["restarts"] == 1) + 1
    run(cut_at, "cut")  # the process "dies" just after a restart
    resumed, after_cut = run(40, "cut")
    keys = ("best", "mean", "sigma", "restarts", "population", "env_steps")
    assert [[r.row()[k] for k in keys] for r in whole.history] == [
        [r.row()[k] for k in keys] for r in resumed.history
    ]
    assert resumed.resumed_at == cut_at and resumed.champion.same_bits(whole.champion)
    a, b = after_whole.ask(), after_cut.ask()
    assert len(a) == 20 and all(x.same_bits(y) for x, y in zip(a, b, strict=True))


def test_restarts_are_a_cmaes_option_of_the_target_file(tmp_path):
    from daemon.registry import load_target

    path = tmp_path / "pole.toml"
    path.write_text(WEIGHTS + "restarts = 3\nstall = 20\n")
    run = load_target(path, tmp_path / "state").config.evolution.config(generations=5)
    strategy = run.strategy(MLPSpec(4, 2, (16,)))
    assert isinstance(strategy, CMAES) and strategy.options == CMAOptions(25, 0.1, None, 3, 20)
    path.write_text(WEIGHTS.replace('"cmaes"', '"es"') + "restarts = 1\n")
    with pytest.raises(Exception, match="restarts are a cmaes option"):
        load_target(path, tmp_path / "state")
