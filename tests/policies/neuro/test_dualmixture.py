"""DualMixture rewrites the whole genome, itself included, within bounds; its genes evolve."""

from __future__ import annotations

import numpy as np

from policies.neuro import DualMixture, GAOptions, GeneticStrategy, MLPSpec
from policies.neuro.dualmixture import CONTROL, MAX_DELTA, SIZE, Controls

SPEC = MLPSpec(4, 2, (16,))
MUTATOR = DualMixture()


def test_the_mutator_changes_its_own_weights_and_the_policys():
    rng = np.random.default_rng(0)
    parent = MUTATOR.new(SPEC, rng)
    child, stats = MUTATOR.mutate(parent, rng)
    assert parent.mutator.size == SIZE
    assert (child.mutator != parent.mutator).mean() > 0.9
    assert (child.policy != parent.policy).mean() > 0.9
    assert stats["delta_mutator"] > 0 and stats["delta_policy"] > 0


def test_deltas_are_bounded_unless_escaping():
    rng = np.random.default_rng(1)
    parent = MUTATOR.new(SPEC, rng)
    calm = 0
    for _ in range(200):
        child, stats = MUTATOR.mutate(parent, rng)
        delta = np.abs(child.vector().astype(np.float64) - parent.vector())
        if not stats["escaped"]:
            calm += 1
            assert delta.max() <= MAX_DELTA + 1e-6
            assert (
                delta[: SPEC.size].max() <= Controls.decode(parent.mutator[CONTROL:]).scale_policy
            )
    assert 150 < calm < 200  # p_escape starts at 0.05: some escapes happen


def test_the_same_generator_state_gives_the_same_child():
    parent = MUTATOR.new(SPEC, np.random.default_rng(2))
    a, _ = MUTATOR.mutate(parent, np.random.default_rng(5))
    b, _ = MUTATOR.mutate(parent, np.random.default_rng(5))
    assert a.same_bits(b)


def test_learned_crossover_blends_each_chunk_between_the_parents():
    rng = np.random.default_rng(3)
    a, b = MUTATOR.new(SPEC, rng), MUTATOR.new(SPEC, rng)
    mixed = MUTATOR.crossover(a, b)
    low = np.minimum(a.vector(), b.vector()) - 1e-6
    high = np.maximum(a.vector(), b.vector()) + 1e-6
    assert ((mixed >= low) & (mixed <= high)).all()
    _, stats = MUTATOR.mutate(a, rng, mate=b)
    assert stats["crossed"] == 1.0


def test_the_escape_probability_evolves_under_selection():
    """Selected for escaping, the population's own escape probability rises."""
    strategy = GeneticStrategy(SPEC, MUTATOR, GAOptions(population=24, elite=2), seed=0)
    start = MUTATOR.stats(strategy.ask())["escape_p"]
    for _ in range(12):
        genomes = strategy.ask()
        fitness = [Controls.decode(g.mutator[CONTROL:]).escape_p for g in genomes]
        stats = strategy.tell(np.array(fitness))
    assert stats["escape_p"] > 2 * start
