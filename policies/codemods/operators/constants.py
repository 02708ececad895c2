"""Numbers: literal tweaks, and off-by-one changes of ranges, slices and indexes."""

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
    int_value,
    make_float,
    make_int,
    with_outer_parens,
)


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
                f"drop {snippet(parent.operator).strip()} {old} from {snippet(parent)}",
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


class OffByOne(SiteOperator):
    """Shift a range bound, slice bound or index by one.

    Sites: a ``range(...)`` call (variants: ``range(n)`` to ``range(1, n)``, and
    ``range(a, b)`` to ``range(b)``), each argument of ``range``, each bound of a slice
    ``a[i:j]`` (not the step), and a single index ``a[i]`` that looks numeric. Their variants
    are the bound plus one and minus one, folded into the expression: ``n - 1`` plus one is
    ``n``, ``a[0]`` minus one is ``a[-1]``.
    """

    name = "off-by-one"
    description = "Add or subtract one at a range argument, slice bound or index."
    node_types: ClassVar = (cst.BaseExpression,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The range start edits, or the bound or index plus and minus one."""
        assert isinstance(node, cst.BaseExpression)
        if _is_range(node):
            return self._range_edits(node)  # type: ignore[arg-type]
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
        if not bound:
            return []
        return [
            Edit(
                add_offset(node, delta),
                f"use {snippet(add_offset(node, delta))} instead of {snippet(node)}",
            )
            for delta in (1, -1)
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
