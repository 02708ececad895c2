"""The genetic algorithm (with each option) and OpenAI-ES improve a cheap fitness."""

from __future__ import annotations

import numpy as np
import pytest

from policies.neuro import (
    DualMixture,
    ESOptions,
    GAOptions,
    GaussianMutator,
    GeneticStrategy,
    OpenAIES,
    StructureOptions,
)
from policies.neuro.speciation import features, init_compat, speciate

from .fakes import SPEC, target_return


def improve(strategy, generations: int = 15) -> tuple[float, float]:
    first = None
    for _ in range(generations):
        fitness = target_return(strategy.ask(), [1, 2]).returns.mean(axis=1)
        first = fitness.max() if first is None else first
        strategy.tell(fitness)
    return first, strategy.best()[1]


@pytest.mark.parametrize(
    "strategy",
    [
        GeneticStrategy(SPEC, GaussianMutator(0.05), GAOptions(population=20), seed=1),
        GeneticStrategy(SPEC, DualMixture(), GAOptions(population=20, crossover=0.5), seed=1),
        OpenAIES(SPEC, ESOptions(population=21, sigma=0.05, lr=0.05), seed=1),
    ],
    ids=["gaussian", "dualmixture", "es"],
)
def test_each_strategy_improves(strategy):
    first, last = improve(strategy)
    assert last > first + 0.3


def test_speciation_splits_distant_genomes():
    rng = np.random.default_rng(0)
    near = [DualMixture().new(SPEC, rng) for _ in range(2)]
    near = [g.__class__(g.spec, g.policy, g.mutator, init_compat(rng), g.kind) for g in near]
    twin = near[0].with_vector(near[0].vector() + 0.001)
    assert features(near[0], twin)[0] < 0.01
    species = speciate([near[0], twin, near[1]], [0, 1, 2])
    assert species == [[0, 1], [2]]


def test_speciated_structural_run_changes_shapes_and_pays_for_size():
    options = GAOptions(
        population=20,
        speciation=True,
        structure=StructureOptions(
            add_neuron=0.3, remove_neuron=0.1, add_layer=0.05, parsimony=0.01
        ),
    )
    strategy = GeneticStrategy(SPEC, DualMixture(), options, seed=2)
    shapes = set()
    for _ in range(6):
        genomes = strategy.ask()
        shapes |= {g.spec.hidden for g in genomes}
        stats = strategy.tell(target_return(genomes, [1]).returns.mean(axis=1))
    assert len(shapes) > 3
    assert stats["species"] >= 1 and stats["structural_edits"] > 0
    # Equal returns, different sizes: parsimony ranks the smaller first.
    genomes = strategy.ask()
    strategy.tell(np.zeros(len(genomes)))
    assert strategy.best()[0].policy.size == min(g.policy.size for g in genomes)


def test_an_ancestor_hands_its_evolved_mutator_to_a_new_run():
    first = GeneticStrategy(SPEC, DualMixture(), GAOptions(population=10), seed=1)
    improve(first, 5)
    ancestor, _ = first.best()
    initial = SPEC.init(np.random.default_rng(9))
    second = GeneticStrategy(
        SPEC, DualMixture(), GAOptions(population=10), seed=2, initial=initial, ancestor=ancestor
    )
    head = second.ask()[0]
    assert head.policy.tobytes() == initial.astype(np.float32).tobytes()
    assert head.mutator.tobytes() == ancestor.mutator.tobytes()
    with pytest.raises(ValueError, match="cannot seed a 'gaussian' run"):
        GeneticStrategy(SPEC, GaussianMutator(), initial=initial, ancestor=ancestor)
