"""Numbers scaled by a factor: edits that tune a score (a gym return, a metric), not repairs."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import float_value, in_place_of, int_value, make_float, make_int

_FACTORS = (Decimal("0.5"), Decimal("0.9"), Decimal("1.1"), Decimal(2))
_DIGITS = 4  # the most significant digits of a scaled float: it must read as a round value


def _is_number(node: cst.CSTNode | None) -> bool:
    """Whether ``node`` is an int or float literal, a ``-`` literal included."""
    return isinstance(node, cst.BaseExpression) and (
        int_value(node) is not None or float_value(node) is not None
    )


def _scaled(number: Decimal, factor: Decimal, integral: bool) -> Decimal:
    """``number * factor``, exact, then rounded: to an int, or to `_DIGITS` digits."""
    with localcontext() as exact:
        exact.prec = len(number.as_tuple().digits) + _DIGITS + 4
        product = number * factor
        if integral:
            return product.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        if not product:
            return product
        unit = Decimal(1).scaleb(product.adjusted() - _DIGITS + 1)
        return product.quantize(unit, rounding=ROUND_HALF_UP)


def _tweaked(number: Decimal, integral: bool) -> set[Decimal]:
    """The values `constant-tweak` offers for the same literal, left to it."""
    values = {number + 1, number - 1, Decimal(0), Decimal(1), -number}
    return values if integral else values | {number * 10, number / 10}


class ConstantScale(SiteOperator):
    """Scale a number literal by 0.5, 0.9, 1.1 or 2, to tune a score rather than repair code.

    The sites are `constant-tweak`'s (a ``-n`` literal is one site with its sign), and no
    variant repeats one of its values: ``-n`` (the sign flip), ``n ± 1``, ``0``, ``1``, and
    for floats ``n * 10`` and ``n / 10``. Floats are computed exactly in decimal and rounded
    to 4 significant digits, so ``0.3`` becomes ``0.33``, never ``0.33000000000000007``; ints
    round to the nearest int, halves away from zero. Values equal to the original or to an
    earlier variant are skipped. A tuning operator: enumerated only for targets that
    optimise a score (`Operator.tuning`).
    """

    name = "constant-scale"
    description = "Scale a number literal n by 0.5, 0.9, 1.1 or 2 to tune a score."
    tuning = True
    node_types: ClassVar = (cst.Integer, cst.Float, cst.UnaryOperation)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The scaled values of a number literal that `constant-tweak` does not offer."""
        if not _is_number(node) or _is_number(ctx.parent):  # a literal goes with its sign
            return []
        assert isinstance(node, cst.BaseExpression)
        literal = node if isinstance(node, cst.Integer | cst.Float) else node.expression  # type: ignore[attr-defined]
        integer = int_value(node)
        number = float_value(node) if integer is None else Decimal(integer)
        assert number is not None
        integral = integer is not None
        taken = {number, *_tweaked(number, integral)}
        old = snippet(node)
        edits = []
        for factor in _FACTORS:
            value = _scaled(number, factor, integral)
            if value in taken:
                continue
            taken.add(value)
            if integral:
                new = make_int(int(value), literal.value)
            else:
                new = make_float(value, literal.value)
            edits.append(Edit(in_place_of(new, node, ctx.parent), f"scale {old} to {snippet(new)}"))
        return edits
