"""The loop: checkpoint every generation, resume to the same bits, curve as CSV and PNG."""

from __future__ import annotations

import csv
import logging
import re

import numpy as np
import pytest

from policies.neuro import Budget, EvolutionConfig, StructureOptions, WeightsFileError, evolve
from policies.neuro.evolve import CHECKPOINT, CURVE_CSV, CURVE_PNG, HOLDOUT, holdout_seeds
from policies.neuro.progress import TerminalProgress

from .fakes import SPEC, target_return

CONFIGS = {
    "dualmixture": EvolutionConfig(
        population=12,
        crossover=0.3,
        speciation=True,
        structure=StructureOptions(add_neuron=0.2, remove_neuron=0.1, parsimony=0.001),
        seed=3,
    ),
    "gaussian": EvolutionConfig(method="gaussian", population=12, seed=3),
    "es": EvolutionConfig(method="es", population=13, seed=3),
}


def run(config, generations, run_dir, observers=()):
    return evolve(
        config.strategy(SPEC),
        target_return,
        Budget(generations=generations),
        episodes=2,
        seed=11,
        run_dir=run_dir,
        observers=observers,
        plot_every=0,
    )


def timeless(record):
    return {k: v for k, v in record.row().items() if k != "wall_time"}


@pytest.mark.parametrize("method", sorted(CONFIGS))
def test_a_resumed_run_gives_the_same_next_generation(tmp_path, method):
    config = CONFIGS[method]
    whole = run(config, 4, tmp_path / "whole")
    run(config, 2, tmp_path / "cut")  # then the process "dies"
    resumed = run(config, 4, tmp_path / "cut")  # a new process, fresh objects
    assert resumed.resumed_at == 2
    assert [timeless(r) for r in resumed.history] == [timeless(r) for r in whole.history]
    assert resumed.champion.same_bits(whole.champion)
    # And the generation after: the same genomes to the last bit.
    nxt_whole = config.strategy(SPEC)
    nxt_cut = config.strategy(SPEC)
    from policies.neuro.checkpoint import load_checkpoint

    nxt_whole.load_state_dict(load_checkpoint(tmp_path / "whole" / CHECKPOINT)["strategy"])
    nxt_cut.load_state_dict(load_checkpoint(tmp_path / "cut" / CHECKPOINT)["strategy"])
    a, b = nxt_whole.ask(), nxt_cut.ask()
    assert len(a) == len(b) and all(x.same_bits(y) for x, y in zip(a, b, strict=True))


def test_the_curve_is_written_as_csv_and_png(tmp_path):
    result = run(CONFIGS["dualmixture"], 3, tmp_path)
    rows = list(csv.DictReader((tmp_path / CURVE_CSV).open()))
    assert [int(r["generation"]) for r in rows] == [1, 2, 3]
    assert {"best", "mean", "escape_p", "scale_policy", "species", "params"} <= set(rows[0])
    assert (tmp_path / CURVE_PNG).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stopped == "3 generations"


def test_training_never_uses_held_out_seeds(tmp_path):
    seen = []

    def spy(genomes, seeds):
        seen.extend(seeds)
        return target_return(genomes, seeds)

    evolve(CONFIGS["gaussian"].strategy(SPEC), spy, Budget(generations=3), episodes=4)
    assert seen and max(seen) < HOLDOUT <= min(holdout_seeds(30))


def test_a_corrupt_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / CHECKPOINT).write_bytes(b"not a zip")
    with pytest.raises(WeightsFileError, match=re.escape(f"cannot load {tmp_path / CHECKPOINT}")):
        run(CONFIGS["es"], 2, tmp_path)


def test_budget_in_env_steps_and_a_failing_observer(tmp_path, caplog):
    def broken(record):
        raise RuntimeError("observer bug")

    with caplog.at_level(logging.ERROR):
        result = evolve(
            CONFIGS["es"].strategy(SPEC),
            target_return,
            Budget(env_steps=1000),
            episodes=2,
            observers=[broken],
        )
    assert result.env_steps >= 1000 and result.stopped == f"{result.env_steps} environment steps"
    assert "observer" in caplog.text


def test_progress_prints_a_line_per_generation_off_a_terminal(tmp_path, capsys):
    import io

    stream = io.StringIO()
    run(CONFIGS["dualmixture"], 2, None, observers=[TerminalProgress(2, stream)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("[" + "#" * 24 + "] 2/2 best")
    assert "p_esc" in lines[0]


def test_failed_genomes_score_minus_infinity():
    strategy = CONFIGS["gaussian"].strategy(SPEC)

    def half_broken(genomes, seeds):
        out = target_return(genomes, seeds)
        out.returns[::2] = np.nan
        return out

    result = evolve(strategy, half_broken, Budget(generations=2), episodes=1)
    assert np.isfinite(result.champion_fitness)


@pytest.mark.slow  # real evolution until validation confirms: about 3 s
def test_the_target_stops_a_run_only_once_validation_confirms_it(tmp_path):
    """A best that reaches the target on its training episodes must also reach it on the
    validation episodes; one that does not is recorded, and the run goes on."""
    asked: list[float] = []

    def validate(genome):
        asked.append(float(target_return([genome], [0]).returns[0, 0]))
        return -1.0 if len(asked) == 1 else 0.0  # the first one was lucky in training

    config = EvolutionConfig(method="gaussian", population=12, seed=3)
    done = evolve(
        config.strategy(SPEC),
        target_return,
        Budget(generations=50, target=-0.5),
        episodes=2,
        run_dir=tmp_path,
        plot_every=1,
        validate=validate,
    )
    checked = [r for r in done.history if "validated" in r.stats]
    assert [r.stats["validated"] for r in checked] == [-1.0, 0.0]
    assert done.stopped == "reached the target return -0.5"
    assert checked[-1] is done.history[-1] and checked[0].generation < checked[1].generation
    assert done.champion_fitness == done.history[-1].best  # the validated genome
    assert done.validated is done.champion  # the best validation mean of the run
    assert (tmp_path / CURVE_PNG).exists()  # a stat missing from some rows still plots

    resumed = evolve(
        config.strategy(SPEC),
        target_return,
        Budget(generations=50, target=-0.5),
        episodes=2,
        run_dir=tmp_path,
        validate=lambda genome: pytest.fail("a finished run validates nothing again"),
    )
    assert len(resumed.history) == len(done.history)
    assert resumed.validated is not None and resumed.validated.same_bits(done.validated)


def test_without_validation_the_training_best_stops_the_run(tmp_path):
    config = EvolutionConfig(method="gaussian", population=12, seed=3)
    done = evolve(config.strategy(SPEC), target_return, Budget(generations=50, target=-0.5))
    assert done.stopped == "reached the target return -0.5"
    assert done.history[-1].best >= -0.5 and "validated" not in done.history[-1].stats
