"""In which order a cycle tries mutations: plain enumeration, uniform random, or learned.

A cycle opens a `Search` over its mutations, takes them a batch at a time with
`next`, and reports each evaluated candidate with `observe`, so a learned order
can adapt between batches. The learned order ranks a mutation by how suspicious
its line is (fault localisation) times how often its operator has repaired code
(the operator preferences). Among equals, fine edits (a token, an operand) come
before coarse ones (`Operator.coarse`: most real fixes are small), and each
operator gets an equal share of a line, split among its variants, so that one
with many (every name in scope, every statement to copy) does not crowd out the
others; a seeded shuffle breaks the remaining ties: the same seed,
suspiciousness, preferences and outcomes give the same order.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from policies.codemods import Mutation, catalogue
from policies.localise import Line
from policies.preferences import OperatorPreferences

ORDERS = ("learned", "random", "plain")


@dataclass(frozen=True)
class SearchContext:
    """What a cycle knows before it searches."""

    seed: int = 0
    suspiciousness: Mapping[Line, float] = field(default_factory=dict)
    """Ochiai score of each covered line at baseline; empty when unknown."""


class Search(Protocol):
    """One cycle's walk through its mutations."""

    def next(self, count: int) -> list[Mutation]:
        """Up to `count` mutations not handed out yet, most promising first; [] when done."""
        ...

    def observe(self, mutation: Mutation, improved: bool) -> None:
        """The outcome of an evaluated mutation."""
        ...


class Ordering(Protocol):
    """Opens a search over the mutations of one cycle."""

    name: str

    def search(self, mutations: Sequence[Mutation], context: SearchContext) -> Search:
        """A search over `mutations`; it may skip some, never invents any."""
        ...


class _Fixed:
    """A search in an order fixed up front, indifferent to outcomes."""

    def __init__(self, order: list[Mutation]) -> None:
        self.order, self.position = order, 0

    def next(self, count: int) -> list[Mutation]:
        taken = self.order[self.position : self.position + count]
        self.position += len(taken)
        return taken

    def observe(self, mutation: Mutation, improved: bool) -> None:
        pass


class PlainOrder:
    """Enumeration order (file, operator, site, variant): the baseline for the others."""

    name = "plain"

    def search(self, mutations: Sequence[Mutation], context: SearchContext) -> Search:
        """The mutations as enumerated."""
        return _Fixed(list(mutations))


class RandomOrder:
    """A uniformly random order, from the context's seed."""

    name = "random"

    def search(self, mutations: Sequence[Mutation], context: SearchContext) -> Search:
        """The mutations shuffled."""
        order = list(mutations)
        random.Random(context.seed).shuffle(order)
        return _Fixed(order)


class LearnedOrder:
    """Suspicious lines first, and on them the operators that repair code most often."""

    name = "learned"

    def __init__(self, preferences: OperatorPreferences | None = None) -> None:
        self.preferences = preferences or OperatorPreferences()

    def search(self, mutations: Sequence[Mutation], context: SearchContext) -> Search:
        """A search that updates the operator preferences as outcomes arrive."""
        return _Learned(mutations, context, self.preferences)


class _Learned:
    def __init__(
        self,
        mutations: Sequence[Mutation],
        context: SearchContext,
        preferences: OperatorPreferences,
    ) -> None:
        rng = random.Random(context.seed)
        self.tiebreak = {m: rng.random() for m in mutations}
        self.remaining = list(mutations)
        self.suspiciousness = context.suspiciousness
        self.preferences = preferences
        operators = catalogue()
        self.coarse = {
            m: m.operator in operators and operators[m.operator].coarse for m in mutations
        }
        variants = Counter((m.path, m.line, m.operator) for m in mutations)
        self.share = {m: 1 / variants[m.path, m.line, m.operator] for m in mutations}

    def next(self, count: int) -> list[Mutation]:
        weights = {op: self.preferences.weight(op) for op in {m.operator for m in self.remaining}}

        def key(m: Mutation) -> tuple[float, bool, float, float, float]:
            # Suspiciousness of the line times the operator's weight; then fine edits before
            # coarse ones, the weight alone (among lines no failing test ran), the variant's
            # share of its operator on its line, and the seeded shuffle.
            line = self.suspiciousness.get((m.path, m.line), 0.0)
            weight = weights[m.operator]
            return (-line * weight, self.coarse[m], -weight, -self.share[m], self.tiebreak[m])

        self.remaining.sort(key=key)
        taken, self.remaining = self.remaining[:count], self.remaining[count:]
        return taken

    def observe(self, mutation: Mutation, improved: bool) -> None:
        self.preferences.update(mutation.operator, improved)


def ordering_for(name: str, preferences: OperatorPreferences | None = None) -> Ordering:
    """The ordering called `name` (one of `ORDERS`)."""
    if name == "learned":
        return LearnedOrder(preferences)
    if name == "random":
        return RandomOrder()
    if name == "plain":
        return PlainOrder()
    raise ValueError(f"unknown order {name!r}: expected one of {', '.join(ORDERS)}")
