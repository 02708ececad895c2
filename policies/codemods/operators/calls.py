"""Calls: swapped arguments or operands, min/max and any/all, rounding functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import STRING_NODES, binary_precedence, parenthesize

_NON_COMMUTATIVE = (
    cst.Subtract,
    cst.Divide,
    cst.FloorDivide,
    cst.Modulo,
    cst.Power,
    cst.LeftShift,
    cst.RightShift,
    cst.MatrixMultiply,
)
_WHOLE = 10_000
_SYMMETRIC = frozenset({"min", "max"})  # swapping their arguments changes nothing


class SwapArgs(SiteOperator):
    """Swap two adjacent positional arguments of a call, or the operands of ``-``, ``/``...

    A call with two or more leading positional arguments is a site; each adjacent pair
    (first and second, second and third...) is a variant, unless both are the same code
    (``min`` and ``max`` calls are left alone: their argument order does not matter). Only
    the argument values move: commas, spacing and comments stay. A non-commutative binary
    operation (``-``, ``/``, ``//``, ``%``, ``**``, ``<<``, ``>>``, ``@``) is a site with one
    variant, its operands swapped (parenthesized where precedence needs it); comparisons are
    `compare-swap`'s, and ``%`` formatting of a string is left alone.
    """

    name = "swap-args"
    description = "Swap two adjacent positional arguments of a call, or the operands of a - b."
    node_types: ClassVar = (cst.Call, cst.BinaryOperation)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Each adjacent pair of arguments swapped, or the operands swapped."""
        if isinstance(node, cst.BinaryOperation):
            return self._operands(node)
        assert isinstance(node, cst.Call)
        if isinstance(node.func, cst.Name) and node.func.value in _SYMMETRIC:
            return []
        args = list(node.args)
        count = next(
            (i for i, arg in enumerate(args) if arg.keyword is not None or arg.star), len(args)
        )
        edits = []
        for i in range(count - 1):
            first, second = args[i], args[i + 1]
            if snippet(first.value, _WHOLE) == snippet(second.value, _WHOLE):
                continue
            new_args = [*args]
            new_args[i] = first.with_changes(value=second.value)
            new_args[i + 1] = second.with_changes(value=first.value)
            pair = f"{snippet(first.value, 20)} and {snippet(second.value, 20)}"
            summary = f"swap {pair} in {snippet(node.func)}()"
            edits.append(Edit(node.with_changes(args=new_args), summary))
        return edits

    @staticmethod
    def _operands(node: cst.BinaryOperation) -> list[Edit]:
        if not isinstance(node.operator, _NON_COMMUTATIVE):
            return []
        if isinstance(node.left, STRING_NODES):
            return []
        if snippet(node.left, _WHOLE) == snippet(node.right, _WHOLE):
            return []
        level = binary_precedence(node.operator)
        if isinstance(node.operator, cst.Power):  # right-associative; ``a ** -b`` is fine
            left, right = parenthesize(node.right, level + 1), parenthesize(node.left, level - 1)
        else:
            left, right = parenthesize(node.right, level), parenthesize(node.left, level + 1)
        summary = f"swap the operands of {snippet(node)}"
        return [Edit(node.with_changes(left=left, right=right), summary)]


_OPPOSITE_NAMES = {"min": "max", "max": "min", "any": "all", "all": "any"}
_OPPOSITE_METHODS = {
    "min": "max",
    "max": "min",
    "argmin": "argmax",
    "argmax": "argmin",
    "amin": "amax",
    "amax": "amin",
    "nanmin": "nanmax",
    "nanmax": "nanmin",
    "nanargmin": "nanargmax",
    "nanargmax": "nanargmin",
    "minimum": "maximum",
    "maximum": "minimum",
}


def _renamed(func: cst.BaseExpression, names: dict[str, str], methods: dict[str, str]) -> list[str]:
    if isinstance(func, cst.Name) and func.value in names:
        return [names[func.value]]
    if isinstance(func, cst.Attribute) and func.attr.value in methods:
        return [methods[func.attr.value]]
    return []


def _with_name(func: cst.BaseExpression, name: str) -> cst.BaseExpression:
    if isinstance(func, cst.Name):
        return func.with_changes(value=name)
    assert isinstance(func, cst.Attribute)
    return func.with_changes(attr=func.attr.with_changes(value=name))


class MinMaxSwap(SiteOperator):
    """Call ``max`` instead of ``min``, ``all`` instead of ``any``, and the other way round.

    Calls of the builtins ``min``, ``max``, ``any``, ``all``, and of methods or module
    functions named ``min``/``max``, ``argmin``/``argmax``, ``amin``/``amax``,
    ``nanmin``/``nanmax``, ``minimum``/``maximum`` (NumPy, PyTorch), are sites with one
    variant: the opposite function.
    """

    name = "minmax-swap"
    description = "Call max instead of min, all instead of any, and the other way round."
    node_types: ClassVar = (cst.Call,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The opposite function of a min/max or any/all call."""
        assert isinstance(node, cst.Call)
        old = snippet(node.func)
        return [
            Edit(
                node.with_changes(func=_with_name(node.func, name)), f"call {name} instead of {old}"
            )
            for name in _renamed(node.func, _OPPOSITE_NAMES, _OPPOSITE_METHODS)
        ]


class BoundaryBuiltin(SiteOperator):
    """Round the other way: ``floor`` for ``ceil``, ``int`` for ``round``, and back.

    Calls of ``floor``/``ceil`` (by name or as ``math.floor``, ``np.ceil``...) get the other
    one; one-argument calls of ``round`` get ``int`` and one-argument calls of ``int`` get
    ``round`` (truncation against rounding to nearest).
    """

    name = "boundary-builtin"
    description = "Swap floor and ceil, or round and int, in a call."
    node_types: ClassVar = (cst.Call,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The other rounding function of a floor/ceil or round/int call."""
        assert isinstance(node, cst.Call)
        names = {"floor": "ceil", "ceil": "floor"}
        if len(node.args) == 1 and node.args[0].keyword is None and not node.args[0].star:
            names |= {"round": "int", "int": "round"}
        old = snippet(node.func)
        return [
            Edit(
                node.with_changes(func=_with_name(node.func, name)), f"call {name} instead of {old}"
            )
            for name in _renamed(node.func, names, {"floor": "ceil", "ceil": "floor"})
        ]
