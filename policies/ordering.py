"""In which order a cycle tries mutations: a small interface, so learned orders can plug in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from policies.codemods import Mutation


class Ordering(Protocol):
    """Orders the mutations of one cycle, most promising first."""

    name: str

    def order(self, mutations: Sequence[Mutation]) -> list[Mutation]:
        """The mutations to try, in order; may drop some, never invents any."""
        ...


class PlainOrder:
    """Enumeration order: file, operator, site, variant. The baseline for learned orders."""

    name = "plain"

    def order(self, mutations: Sequence[Mutation]) -> list[Mutation]:
        """The mutations as enumerated."""
        return list(mutations)
