"""Comparison operators: ``<=`` for ``<`` and the like; ``is``/``is not``; ``in``/``not in``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context
from policies.codemods.base import Edit, SiteOperator

_SYMBOLS: dict[type[cst.BaseCompOp], str] = {
    cst.LessThan: "<",
    cst.LessThanEqual: "<=",
    cst.GreaterThan: ">",
    cst.GreaterThanEqual: ">=",
    cst.Equal: "==",
    cst.NotEqual: "!=",
}
# The alternatives to each operator, nearest first: the boundary, then the direction.
_ALTERNATIVES: dict[type[cst.BaseCompOp], tuple[type[cst.BaseCompOp], ...]] = {
    cst.LessThan: (
        cst.LessThanEqual,
        cst.GreaterThan,
        cst.GreaterThanEqual,
        cst.NotEqual,
        cst.Equal,
    ),
    cst.LessThanEqual: (
        cst.LessThan,
        cst.GreaterThanEqual,
        cst.GreaterThan,
        cst.Equal,
        cst.NotEqual,
    ),
    cst.GreaterThan: (
        cst.GreaterThanEqual,
        cst.LessThan,
        cst.LessThanEqual,
        cst.NotEqual,
        cst.Equal,
    ),
    cst.GreaterThanEqual: (
        cst.GreaterThan,
        cst.LessThanEqual,
        cst.LessThan,
        cst.Equal,
        cst.NotEqual,
    ),
    cst.Equal: (
        cst.NotEqual,
        cst.LessThanEqual,
        cst.GreaterThanEqual,
        cst.LessThan,
        cst.GreaterThan,
    ),
    cst.NotEqual: (
        cst.Equal,
        cst.LessThan,
        cst.GreaterThan,
        cst.LessThanEqual,
        cst.GreaterThanEqual,
    ),
}


class CompareSwap(SiteOperator):
    """Replace one comparison operator by each of the five others.

    Every ``<``, ``<=``, ``>``, ``>=``, ``==`` and ``!=`` of a comparison (each link of a
    chain ``a < b <= c`` is its own site) is a site; its variants are the other five operators,
    the likeliest fix first: the same direction with the other boundary (``<`` for ``<=``),
    then the other direction, then (in)equality.
    """

    name = "compare-swap"
    description = "Replace a comparison operator such as < by another one such as <=."
    node_types: ClassVar = (cst.ComparisonTarget,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The five other comparison operators, nearest first."""
        assert isinstance(node, cst.ComparisonTarget)
        old = node.operator
        if type(old) not in _ALTERNATIVES:
            return []
        return [
            Edit(
                node.with_changes(
                    operator=new(
                        whitespace_before=old.whitespace_before,
                        whitespace_after=old.whitespace_after,
                    )
                ),
                f"use {_SYMBOLS[new]} instead of {_SYMBOLS[type(old)]}",
            )
            for new in _ALTERNATIVES[type(old)]
        ]


class IsInNegation(SiteOperator):
    """Negate an identity or membership test: ``is`` for ``is not``, ``in`` for ``not in``.

    Each ``is``, ``is not``, ``in`` and ``not in`` link of a comparison is a site with one
    variant, the opposite test; the spacing around the operator is kept.
    """

    name = "is-in-negation"
    description = "Swap is for is not, or in for not in, and the other way round."
    node_types: ClassVar = (cst.ComparisonTarget,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The opposite identity or membership test."""
        assert isinstance(node, cst.ComparisonTarget)
        old = node.operator
        space = cst.SimpleWhitespace(" ")
        match old:
            case cst.Is():
                new: cst.BaseCompOp = cst.IsNot(
                    whitespace_before=old.whitespace_before,
                    whitespace_between=space,
                    whitespace_after=old.whitespace_after,
                )
                summary = "use is not instead of is"
            case cst.IsNot():
                new = cst.Is(
                    whitespace_before=old.whitespace_before, whitespace_after=old.whitespace_after
                )
                summary = "use is instead of is not"
            case cst.In():
                new = cst.NotIn(
                    whitespace_before=old.whitespace_before,
                    whitespace_between=space,
                    whitespace_after=old.whitespace_after,
                )
                summary = "use not in instead of in"
            case cst.NotIn():
                new = cst.In(
                    whitespace_before=old.whitespace_before, whitespace_after=old.whitespace_after
                )
                summary = "use in instead of not in"
            case _:
                return []
        return [Edit(node.with_changes(operator=new), summary)]
