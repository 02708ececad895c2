"""Operands: drop one operand of a binary operation, or add a nearby variable to a value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import STRING_NODES, in_place_of, int_value, names_in, parenthesize
from policies.codemods.scope import Usage, available_bindings, nearest, usage

_SHORT = 30  # the longest snippet in a summary
_WHOLE = 10_000  # a snippet length that never truncates
_NUMERIC = (cst.Subtract, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power)


class DeleteOperand(SiteOperator):
    """Keep one operand of a binary operation: ``a + b`` becomes ``a``, or ``b``.

    The "excess logic" repair of the literature (GenProg's deletion at the expression level,
    TBar's mutate-operator by removal). Every binary operation is a site, with up to two
    variants: its left operand, then its right one (one when both are the same code).
    String formatting ``"..." % x`` is left alone; the operand keeps the operation's
    parentheses, and gets new ones where its new place needs them.
    """

    name = "delete-operand"
    description = "Replace a binary operation a + b by one of its operands, a or b."
    node_types: ClassVar = (cst.BinaryOperation,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The left operand alone, then the right one."""
        assert isinstance(node, cst.BinaryOperation)
        if isinstance(node.operator, cst.Modulo) and isinstance(node.left, STRING_NODES):
            return []
        operands = [("left", node.left), ("right", node.right)]
        if snippet(node.left, _WHOLE) == snippet(node.right, _WHOLE):
            operands = operands[:1]
        return [
            Edit(in_place_of(operand, node, ctx.parent), _kept(side, operand, node))
            for side, operand in operands
        ]


def _kept(side: str, operand: cst.BaseExpression, node: cst.BinaryOperation) -> str:
    """``use a instead of a + b`` when both fit in a summary, else which operand is dropped."""
    whole = snippet(node, _WHOLE)
    if len(whole) <= _SHORT:
        return f"use {snippet(operand, _SHORT)} instead of {whole}"
    other = "right" if side == "left" else "left"
    return f"drop the {other} operand of {snippet(node, _SHORT)}"


def _slot(node: cst.CSTNode, ctx: Context) -> bool:
    """Whether ``node`` is a whole value: returned, assigned or passed as an argument."""
    parent = ctx.parent
    if isinstance(parent, cst.Arg):
        return parent.value is node and not parent.star
    return isinstance(parent, cst.Return | cst.Assign | cst.AugAssign | cst.AnnAssign) and (
        getattr(parent, "value", None) is node
    )


def _numeric(expr: cst.BaseExpression, names: Usage) -> bool:
    """An integer by evidence, or arithmetic that only numbers do (``a - b``, ``a / b``)."""
    kind = names.kind(expr)
    if kind == "int":
        return True
    return (
        kind is None
        and isinstance(expr, cst.BinaryOperation)
        and isinstance(expr.operator, _NUMERIC)
        and not isinstance(expr.left, STRING_NODES)
    )


class InsertOperand(SiteOperator):
    """Add a nearby variable to a value: ``e`` becomes ``e + v``, ``e - v`` or ``v + e``.

    The "missing logic" repair of the literature (PAR's expression adder, SimFix's insertion
    of an operand taken from the context). Sites are whole values (returned, assigned, or
    passed as an argument) that evidently hold a number or a string, literals excepted. The
    variable ``v`` is the one of the same kind bound nearest that may hold a value there and
    is not already in the value. Numbers get ``e + v`` and ``e - v``; strings, whose
    concatenation is not commutative, ``e + v`` and ``v + e``. Adding one is `off-by-one`'s.
    """

    name = "insert-operand"
    description = "Add or subtract a nearby variable of the same kind to a value: e + v, e - v."
    node_types: ClassVar = (cst.BaseExpression,)
    limit: ClassVar[int] = 1

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """``e + v`` and ``e - v`` (or ``v + e``) for the nearest variable ``v``."""
        assert isinstance(node, cst.BaseExpression)
        if not _slot(node, ctx) or int_value(node) is not None:
            return []
        if isinstance(node, cst.SimpleString | cst.Float | cst.Integer):
            return []
        names = usage(ctx)
        if _numeric(node, names):
            kind, forms = "int", ("e + v", "e - v")
        elif names.kind(node) == "str":
            kind, forms = "str", ("e + v", "v + e")
        else:
            return []
        used = names_in(node)
        candidates = [
            b
            for b in available_bindings(ctx)
            if b.kind in ("param", "variable")
            and b.name not in used
            and names.kind(cst.Name(b.name)) == kind
        ]
        edits = []
        for name in nearest(ctx, candidates, self.limit):
            for form in forms:
                new = _combine(node, cst.Name(name), form)
                summary = f"use {snippet(new, _SHORT)} instead of {snippet(node, _SHORT)}"
                edits.append(Edit(new, summary))
        return edits


def _combine(expr: cst.BaseExpression, name: cst.Name, form: str) -> cst.BaseExpression:
    """``expr + name``, ``expr - name`` or ``name + expr``."""
    if form == "v + e":
        return cst.BinaryOperation(left=name, operator=cst.Add(), right=parenthesize(expr, 11))
    operator = cst.Add() if form == "e + v" else cst.Subtract()
    return cst.BinaryOperation(left=parenthesize(expr, 10), operator=operator, right=name)
