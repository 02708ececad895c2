"""Arithmetic operators: ``+`` for ``-`` and the like, and ``+=`` for ``=``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import DISPLAY_NODES, STRING_NODES
from policies.codemods.scope import scope_bindings

_SYMBOLS: dict[type[cst.BaseBinaryOp], str] = {
    cst.Add: "+",
    cst.Subtract: "-",
    cst.Multiply: "*",
    cst.Divide: "/",
    cst.FloorDivide: "//",
    cst.Modulo: "%",
    cst.Power: "**",
    cst.MatrixMultiply: "@",
    cst.BitAnd: "&",
    cst.BitOr: "|",
    cst.BitXor: "^",
    cst.LeftShift: "<<",
    cst.RightShift: ">>",
}
_ALTERNATIVES: dict[type[cst.BaseBinaryOp], tuple[type[cst.BaseBinaryOp], ...]] = {
    cst.Add: (cst.Subtract,),
    cst.Subtract: (cst.Add,),
    cst.Multiply: (cst.Divide, cst.Power, cst.FloorDivide),
    cst.Divide: (cst.FloorDivide, cst.Multiply),
    cst.FloorDivide: (cst.Divide, cst.Modulo, cst.Multiply),
    cst.Modulo: (cst.FloorDivide,),
    cst.Power: (cst.Multiply,),
    cst.MatrixMultiply: (cst.Multiply,),
    cst.BitAnd: (cst.BitOr, cst.BitXor),
    cst.BitOr: (cst.BitAnd, cst.BitXor),
    cst.BitXor: (cst.BitOr, cst.BitAnd),
    cst.LeftShift: (cst.RightShift,),
    cst.RightShift: (cst.LeftShift,),
}
_AUGMENTED: dict[type[cst.BaseAugOp], type[cst.BaseBinaryOp]] = {
    cst.AddAssign: cst.Add,
    cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide,
    cst.FloorDivideAssign: cst.FloorDivide,
    cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power,
    cst.MatrixMultiplyAssign: cst.MatrixMultiply,
    cst.BitAndAssign: cst.BitAnd,
    cst.BitOrAssign: cst.BitOr,
    cst.BitXorAssign: cst.BitXor,
    cst.LeftShiftAssign: cst.LeftShift,
    cst.RightShiftAssign: cst.RightShift,
}
_AUGMENTED_OF = {binary: augmented for augmented, binary in _AUGMENTED.items()}


def _is_sequence_operand(expr: cst.BaseExpression) -> bool:
    """A string or display operand: ``"a" + b`` or ``[0] * n`` is not arithmetic."""
    return isinstance(expr, (*STRING_NODES, *DISPLAY_NODES))


class ArithSwap(SiteOperator):
    """Replace a binary arithmetic or bitwise operator, plain or augmented, by a related one.

    ``+``/``-``; ``*`` to ``/``, ``**`` or ``//``; ``/`` to ``//`` or ``*``; ``//`` to ``/``,
    ``%`` or ``*``; ``%`` to ``//``; ``**`` to ``*``; ``&``, ``|``, ``^`` among themselves;
    ``<<``/``>>``; the same for ``+=`` and the other augmented assignments. Operations on a
    string or a list/tuple/dict display (concatenation, ``%`` formatting, repetition) are left
    alone: no swap of theirs would run.
    """

    name = "arith-swap"
    description = "Replace an arithmetic operator such as + by a related one such as -."
    node_types: ClassVar = (cst.BinaryOperation, cst.AugAssign)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The related operators of a binary operation or augmented assignment."""
        if isinstance(node, cst.BinaryOperation):
            if _is_sequence_operand(node.left) or _is_sequence_operand(node.right):
                return []
            old = type(node.operator)
            return [
                Edit(
                    node.with_changes(operator=new(**_spacing(node.operator))),
                    f"use {_SYMBOLS[new]} instead of {_SYMBOLS[old]}",
                )
                for new in _ALTERNATIVES.get(old, ())
            ]
        assert isinstance(node, cst.AugAssign)
        if _is_sequence_operand(node.value):
            return []
        old = _AUGMENTED[type(node.operator)]
        return [
            Edit(
                node.with_changes(operator=_AUGMENTED_OF[new](**_spacing(node.operator))),
                f"use {_SYMBOLS[new]}= instead of {_SYMBOLS[old]}=",
            )
            for new in _ALTERNATIVES.get(old, ())
        ]


def _spacing(
    operator: cst.BaseBinaryOp | cst.BaseAugOp,
) -> dict[str, cst.BaseParenthesizableWhitespace]:
    return {
        "whitespace_before": operator.whitespace_before,  # type: ignore[attr-defined]
        "whitespace_after": operator.whitespace_after,  # type: ignore[attr-defined]
    }


class AugAssignToAssign(SiteOperator):
    """Turn an accumulation into a plain assignment, or a plain assignment into ``+=``.

    ``x += y`` (or any augmented assignment) becomes ``x = y``; ``x = y`` becomes ``x += y``
    when it has one target and that target already holds a value there: an attribute, a
    subscript, a parameter, or a local variable bound on an earlier line.
    """

    name = "augassign-to-assign"
    description = "Replace x += y by x = y, or x = y by x += y when x already has a value."
    node_types: ClassVar = (cst.AugAssign, cst.Assign)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """``x = y`` for an augmented assignment; ``x += y`` for an assignment."""
        if isinstance(node, cst.AugAssign):
            symbol = _SYMBOLS[_AUGMENTED[type(node.operator)]]
            target = cst.AssignTarget(
                target=node.target,
                whitespace_before_equal=node.operator.whitespace_before,  # type: ignore[attr-defined]
                whitespace_after_equal=node.operator.whitespace_after,  # type: ignore[attr-defined]
            )
            new = cst.Assign(targets=[target], value=node.value, semicolon=node.semicolon)
            return [Edit(new, f"use = instead of {symbol}=")]
        assert isinstance(node, cst.Assign)
        if len(node.targets) != 1 or not self._holds_value(node.targets[0].target, ctx):
            return []
        target = node.targets[0]
        operator = cst.AddAssign(
            whitespace_before=target.whitespace_before_equal,
            whitespace_after=target.whitespace_after_equal,
        )
        new_aug = cst.AugAssign(
            target=target.target, operator=operator, value=node.value, semicolon=node.semicolon
        )
        return [Edit(new_aug, "use += instead of =")]

    @staticmethod
    def _holds_value(target: cst.BaseExpression, ctx: Context) -> bool:
        function = ctx.function_node
        if isinstance(target, cst.Attribute | cst.Subscript):
            return function is None or function.name.value != "__init__"
        if not isinstance(target, cst.Name) or function is None:
            return False
        for binding in scope_bindings(function, ctx):
            if binding.name == target.value:
                return binding.kind == "param" or ctx.line(binding.node) < ctx.line()
        return False
