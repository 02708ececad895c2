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

    Each ``and``/``or`` operator is a site; in ``a and b or c`` the two operators are
    separate sites, and the text changes only at the swapped keyword. The last operator of a
    chain of three or more operands joined by the same one (``a and b and c``) has a second
    variant that swaps them all: "all of them" for "any of them".
    """

    name = "bool-swap"
    description = "Replace and by or, or or by and."
    node_types: ClassVar = (cst.BooleanOperation,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The other boolean operator, here and then along the whole chain."""
        assert isinstance(node, cst.BooleanOperation)
        new, old = ("or", "and") if isinstance(node.operator, cst.And) else ("and", "or")
        edits = [
            Edit(node.with_changes(operator=_other(node.operator)), f"use {new} instead of {old}")
        ]
        parent = ctx.parent
        inner = _same_chain(node, node.left)
        outermost = not (isinstance(parent, cst.BooleanOperation) and _same_chain(parent, node))
        if inner is not None and outermost:
            edits.append(Edit(_swap_chain(node), f"use {new} instead of {old} throughout"))
        return edits


def _other(operator: cst.BaseBooleanOp) -> cst.BaseBooleanOp:
    spacing = {
        "whitespace_before": operator.whitespace_before,
        "whitespace_after": operator.whitespace_after,
    }
    return cst.Or(**spacing) if isinstance(operator, cst.And) else cst.And(**spacing)


def _same_chain(
    node: cst.BooleanOperation, left: cst.BaseExpression
) -> cst.BooleanOperation | None:
    """``left`` when it continues ``node``'s chain: the same operator, no parentheses."""
    if (
        isinstance(left, cst.BooleanOperation)
        and node.left is left
        and type(left.operator) is type(node.operator)
        and not left.lpar
    ):
        return left
    return None


def _swap_chain(node: cst.BooleanOperation) -> cst.BooleanOperation:
    inner = _same_chain(node, node.left)
    left = node.left if inner is None else _swap_chain(inner)
    return node.with_changes(left=left, operator=_other(node.operator))


# The field of each conditional node that holds the space before its test.
_TEST_SPACE = {
    cst.If: "whitespace_before_test",
    cst.While: "whitespace_after_while",
    cst.IfExp: "whitespace_after_if",
    cst.CompIf: "whitespace_before_test",
}
CONDITIONAL = tuple(_TEST_SPACE)
"""The nodes with a test: ``if``/``elif``, ``while``, conditional expressions, comprehension ifs."""


def with_test(node: cst.CSTNode, test: cst.BaseExpression) -> cst.CSTNode:
    """A conditional node with a new test, spaced from its keyword (``if(x)`` to ``if not x``)."""
    changes: dict[str, object] = {"test": test}
    space_field = _TEST_SPACE[type(node)]
    space = getattr(node, space_field)
    if isinstance(space, cst.SimpleWhitespace) and not space.value and not test.lpar:
        changes[space_field] = cst.SimpleWhitespace(" ")
    return node.with_changes(**changes)


def _swapped_branches(node: cst.If) -> cst.If | None:
    """``if t: A else: B`` as ``if t: B else: A``; None without a plain ``else``.

    The statements change places; each header keeps its comment.
    """
    orelse = node.orelse
    if not isinstance(orelse, cst.Else):
        return None
    body, other = node.body, orelse.body
    if isinstance(body, cst.IndentedBlock) and isinstance(other, cst.IndentedBlock):
        new_body = body.with_changes(body=other.body, footer=other.footer)
        new_other = other.with_changes(body=body.body, footer=body.footer)
    else:
        new_body, new_other = other, body
    return node.with_changes(body=new_body, orelse=orelse.with_changes(body=new_other))


_NEGATABLE = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)


class NegateCondition(SiteOperator):
    """Negate a condition, or one operand of ``and``/``or`` (PAR, TBar).

    The test of an ``if``, ``elif``, ``while``, conditional expression or comprehension
    filter is a site: ``t`` becomes ``not t`` (``not (t)`` when ``t`` is not a single name,
    call, attribute or subscript); a test that starts with ``not`` loses it instead. An
    ``if`` or ``elif`` with a plain ``else`` whose test does not start with ``not`` keeps its
    test and swaps its two branches instead: the same program, read without a double
    negation. Literal ``True``/``False`` tests (``while True:``) are left alone. Each
    ``and``/``or`` operator of a function is a site too: its left, then its right operand
    negated, when that is a name, attribute, call or subscript (comparisons are
    `compare-swap`'s and `is-in-negation`'s, a ``not`` is `remove-unary`'s).
    """

    name = "negate-condition"
    description = "Negate a condition of an if, while, ternary or filter, or an operand of and/or."
    node_types: ClassVar = (*CONDITIONAL, cst.BooleanOperation)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The conditional node with its test negated (or its branches swapped)."""
        if isinstance(node, cst.BooleanOperation):
            return self._operands(node) if ctx.function_node is not None else []
        test = node.test  # type: ignore[attr-defined]
        if is_literal_name(test, "True", "False"):
            return []
        new_test = negate(test)
        if isinstance(new_test, cst.UnaryOperation):
            swapped = _swapped_branches(node) if isinstance(node, cst.If) else None
            if swapped is not None:
                return [Edit(swapped, f"swap the branches of if {snippet(test, 30)}")]
            summary = f"negate the condition {snippet(test, 30)}"
        else:
            summary = f"drop not from the condition {snippet(test, 30)}"
        return [Edit(with_test(node, new_test), summary)]

    @staticmethod
    def _operands(node: cst.BooleanOperation) -> list[Edit]:
        edits = []
        for side in ("left", "right"):
            operand = getattr(node, side)
            if isinstance(operand, _NEGATABLE) and not is_literal_name(operand):
                new = node.with_changes(**{side: negate(operand)})
                edits.append(Edit(new, f"negate {snippet(operand, 30)}"))
        return edits


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
