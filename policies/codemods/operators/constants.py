"""Numbers: literal tweaks, and off-by-one changes of ranges, slices, indexes and integers."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import (
    add_offset,
    float_value,
    in_place_of,
    int_value,
    make_float,
    make_int,
    with_outer_parens,
)
from policies.codemods.scope import usage

_SHORT = 30  # the longest snippet in a summary


def _is_negative_literal(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, cst.Integer | cst.Float)
        and not node.expression.lpar
    )


class ConstantTweak(SiteOperator):
    """Replace a number literal by a nearby or special value.

    Integers ``n`` (``-n`` literals included) become ``n + 1``, ``n - 1``, ``0``, ``1`` and
    ``-n``; floats also ``n * 10`` and ``n / 10`` (a misplaced decimal point), computed exactly
    in decimal. Duplicates and no-ops are skipped; the literal keeps its style (hex, ``_``
    groups, exponent). Where the literal is the right operand of ``+`` or ``-``, the value
    ``0`` drops the operation instead: ``n - 1`` becomes ``n``, not ``n - 0``.
    """

    name = "constant-tweak"
    description = "Replace a number literal n by n + 1, n - 1, 0, 1 or -n."
    node_types: ClassVar = (cst.Integer, cst.Float, cst.UnaryOperation)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The nearby and special values of a number literal."""
        if isinstance(node, cst.UnaryOperation) and not _is_negative_literal(node):
            return []
        if _is_negative_literal(ctx.parent):  # the literal is handled with its sign
            return []
        assert isinstance(node, cst.BaseExpression)
        like = node.value if isinstance(node, cst.Integer | cst.Float) else node.expression.value  # type: ignore[attr-defined]
        integer = int_value(node)
        edits = []
        if integer is not None:
            values: list = [integer + 1, integer - 1, 0, 1, -integer]
            make = make_int
            old: object = integer
        else:
            number = float_value(node)
            if number is None:
                return []
            values = [
                number + 1,
                number - 1,
                Decimal(0),
                Decimal(1),
                -number,
                number * 10,
                number / 10,
            ]
            make = make_float  # type: ignore[assignment]
            old = number
        seen = {old}
        for value in values:
            if value in seen:
                continue
            seen.add(value)
            edits.append(self._edit(node, ctx, make(value, like), snippet(node), value == 0))
        return edits

    @staticmethod
    def _edit(
        node: cst.BaseExpression, ctx: Context, new: cst.BaseExpression, old: str, zero: bool
    ) -> Edit:
        parent = ctx.parent
        if (
            zero
            and isinstance(parent, cst.BinaryOperation)
            and isinstance(parent.operator, cst.Add | cst.Subtract)
            and parent.right is node
        ):
            return Edit(
                with_outer_parens(parent.left, parent),
                f"drop {snippet(parent.operator).strip()} {old} from {snippet(parent, _SHORT)}",
                target=parent,
            )
        return Edit(with_outer_parens(new, node), f"use {snippet(new)} instead of {old}")


_TYPE_LIKE = frozenset(
    {"int", "str", "float", "bool", "bytes", "list", "dict", "set", "tuple", "type"}
)


def _indexable(expr: cst.BaseExpression) -> bool:
    """Whether an index looks numeric: not a string, a type or a tuple of them."""
    if isinstance(expr, cst.Name):
        return expr.value not in _TYPE_LIKE and not expr.value[:1].isupper()
    if isinstance(expr, cst.Attribute):
        return not expr.attr.value[:1].isupper()
    if isinstance(expr, cst.UnaryOperation):
        return isinstance(expr.operator, cst.Minus) and _indexable(expr.expression)
    if isinstance(expr, cst.BinaryOperation):
        return not isinstance(expr.operator, cst.BitOr)  # ``int | None`` is a type
    return isinstance(expr, cst.Integer | cst.Call)


def _is_range(node: cst.CSTNode | None) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "range"
        and all(arg.keyword is None and not arg.star for arg in node.args)
    )


_ORDER_DELTAS: dict[type[cst.BaseCompOp], tuple[int, ...]] = {
    cst.Equal: (1, -1),
    cst.NotEqual: (1, -1),
    # ``a < b + 1`` is ``a <= b`` for integers, `compare-swap`'s: only the other shift is new.
    cst.LessThan: (-1,),
    cst.GreaterThanEqual: (-1,),
    cst.LessThanEqual: (1,),
    cst.GreaterThan: (1,),
}


def _is_additive(node: cst.CSTNode | None) -> bool:
    return isinstance(node, cst.BinaryOperation) and isinstance(
        node.operator, cst.Add | cst.Subtract
    )


def _is_len(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len"
    )


class OffByOne(SiteOperator):
    """Shift an integer by one: a range bound, slice bound, index, or any integer-valued value.

    The off-by-one fix pattern of the repair literature (PAR, TBar's mutate-integer). Sites:
    a ``range(...)`` call (variants: ``range(n)`` to ``range(1, n)``, and ``range(a, b)`` to
    ``range(b)``), each argument of ``range``, each bound of a slice ``a[i:j]`` (not the
    step), and a single index ``a[i]`` that looks numeric; then each expression evidently
    holding an integer (`policies.codemods.scope.Usage`) that is a call argument, a returned
    value, a ``len(...)`` call or a sum or difference (taken whole: ``len(s) - i`` and not
    ``len(s)`` in it). Their variants are the value plus one and minus one, folded into the
    expression: ``n - 1`` plus one is ``n``, ``a[0]`` minus one is ``a[-1]``. The right operand
    of a comparison gets only the shift `compare-swap` does not already make: ``i < n - 1``,
    ``i <= n + 1``, and both for ``==`` and ``!=``. Number literals are `constant-tweak`'s.
    """

    name = "off-by-one"
    description = "Add or subtract one at a range argument, slice bound, index or integer value."
    node_types: ClassVar = (cst.BaseExpression,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The range start edits, or the value plus and minus one."""
        assert isinstance(node, cst.BaseExpression)
        if _is_range(node):
            return self._range_edits(node)  # type: ignore[arg-type]
        deltas = _bound_deltas(node, ctx) or _value_deltas(node, ctx)
        old = snippet(node, _SHORT)
        return [
            Edit(new, f"use {snippet(new, _SHORT)} instead of {old}")
            for new in (in_place_of(add_offset(node, delta), node, ctx.parent) for delta in deltas)
        ]

    @staticmethod
    def _range_edits(node: cst.Call) -> list[Edit]:
        args = list(node.args)
        if len(args) == 1:
            start = cst.Arg(
                value=cst.Integer("1"), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            )
            new = node.with_changes(args=[start, *args])
            return [Edit(new, f"start {snippet(node)} at 1")]
        if len(args) == 2:
            stop = args[1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            new = node.with_changes(args=[stop])
            return [Edit(new, f"drop the start of {snippet(node)}")]
        return []


def _bound_deltas(node: cst.BaseExpression, ctx: Context) -> tuple[int, ...]:
    """Plus and minus one for a range argument, slice bound or numeric index; else nothing."""
    parent, grandparent = ctx.parent, ctx.ancestor(2)
    bound = (
        (isinstance(parent, cst.Arg) and parent.value is node and _is_range(grandparent))
        or (isinstance(parent, cst.Slice) and (node is parent.lower or node is parent.upper))
        or (
            isinstance(parent, cst.Index)
            and not parent.star
            and isinstance(ctx.ancestor(3), cst.Subscript)
            and len(ctx.ancestor(3).slice) == 1  # type: ignore[union-attr]
            and _indexable(node)
        )
    )
    return (1, -1) if bound else ()


def _value_deltas(node: cst.BaseExpression, ctx: Context) -> tuple[int, ...]:
    """The shifts of an integer-valued argument, returned value, comparison operand or sum."""
    if int_value(node) is not None:
        return ()
    parent = ctx.parent
    names = usage(ctx)
    if isinstance(parent, cst.ComparisonTarget):
        comparison = ctx.ancestor(2)
        assert isinstance(comparison, cst.Comparison)
        links = list(comparison.comparisons)
        index = links.index(parent)
        partner = comparison.left if index == 0 else links[index - 1].comparator
        if "int" not in (names.kind(partner), names.kind(node)):
            return ()
        return _ORDER_DELTAS.get(type(parent.operator), ())
    if names.kind(node) != "int" or _is_additive(parent):
        return ()
    in_slot = (isinstance(parent, cst.Arg) and parent.value is node) or isinstance(
        parent, cst.Return
    )
    if in_slot or _is_len(node) or _is_additive(node):
        if isinstance(parent, cst.Comparison):  # its left operand: the right one moves
            return ()
        return (1, -1)
    return ()
