"""Boolean logic: ``and``/``or``, negated conditions, unary operators dropped, True/False."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import (
    float_value,
    int_value,
    is_literal_name,
    negate,
    with_outer_parens,
)


class BoolSwap(SiteOperator):
    """Replace ``and`` by ``or`` or the other way round.

    Each ``and``/``or`` operator is a site with one variant; in ``a and b or c`` the two
    operators are separate sites, and the text changes only at the swapped keyword.
    """

    name = "bool-swap"
    description = "Replace and by or, or or by and."
    node_types: ClassVar = (cst.BooleanOperation,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The other boolean operator."""
        assert isinstance(node, cst.BooleanOperation)
        old = node.operator
        spacing = {
            "whitespace_before": old.whitespace_before,
            "whitespace_after": old.whitespace_after,
        }
        if isinstance(old, cst.And):
            return [Edit(node.with_changes(operator=cst.Or(**spacing)), "use or instead of and")]
        return [Edit(node.with_changes(operator=cst.And(**spacing)), "use and instead of or")]


# The field of each conditional node that holds the space before its test.
_TEST_SPACE = {
    cst.If: "whitespace_before_test",
    cst.While: "whitespace_after_while",
    cst.IfExp: "whitespace_after_if",
    cst.CompIf: "whitespace_before_test",
}


class NegateCondition(SiteOperator):
    """Negate the test of an ``if``, ``elif``, ``while``, conditional expression or comprehension.

    A test ``t`` becomes ``not t`` (``not (t)`` when ``t`` is not a single name, call,
    attribute or subscript); a test that starts with ``not`` loses it instead. Literal
    ``True``/``False`` tests (``while True:``) are left alone.
    """

    name = "negate-condition"
    description = "Negate the condition of an if, elif, while, ternary or comprehension filter."
    node_types: ClassVar = tuple(_TEST_SPACE)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The conditional node with its test negated."""
        test = node.test  # type: ignore[attr-defined]
        if is_literal_name(test, "True", "False"):
            return []
        new_test = negate(test)
        changes: dict[str, object] = {"test": new_test}
        space_field = _TEST_SPACE[type(node)]
        space = getattr(node, space_field)
        if isinstance(space, cst.SimpleWhitespace) and not space.value and not new_test.lpar:
            changes[space_field] = cst.SimpleWhitespace(" ")
        if isinstance(new_test, cst.UnaryOperation):
            summary = f"negate the condition {snippet(test)}"
        else:
            summary = f"drop not from the condition {snippet(test)}"
        return [Edit(node.with_changes(**changes), summary)]


class RemoveUnary(SiteOperator):
    """Drop a unary operator: ``-x`` to ``x``, ``not x`` to ``x``, ``~x`` to ``x``, ``+x`` to ``x``.

    Negative number literals are `constant-tweak`'s; the operand keeps the operator's
    parentheses, and since every unary operator binds more loosely than its operand, nothing
    else needs parentheses.
    """

    name = "remove-unary"
    description = "Drop a unary operator: -x, not x or ~x becomes x."
    node_types: ClassVar = (cst.UnaryOperation,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The operand without the unary operator."""
        assert isinstance(node, cst.UnaryOperation)
        if int_value(node) is not None or float_value(node) is not None:
            return []
        operand = with_outer_parens(node.expression, node)
        symbol = {cst.Not: "not", cst.Minus: "-", cst.Plus: "+", cst.BitInvert: "~"}
        return [Edit(operand, f"drop {symbol[type(node.operator)]} from {snippet(node)}")]


class BoolLiteral(SiteOperator):
    """Replace the constant ``True`` by ``False`` or the other way round.

    Any ``True`` or ``False`` that is read, in an expression, an argument or a default value.
    """

    name = "bool-literal"
    description = "Replace True by False, or False by True."
    node_types: ClassVar = (cst.Name,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The other boolean constant."""
        assert isinstance(node, cst.Name)
        if node.value not in ("True", "False"):
            return []
        new = "False" if node.value == "True" else "True"
        return [Edit(node.with_changes(value=new), f"use {new} instead of {node.value}")]
