"""Calls around values: wrap a value in ``abs``/``max``/``min``, or unwrap a call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import (
    DISPLAY_NODES,
    STRING_NODES,
    dotted_name,
    in_place_of,
    int_value,
)
from policies.codemods.scope import scope_bindings, usage

_SHORT = 30  # the longest snippet in a summary
_PART = 20  # the longest snippet of a part of a summary
_SELF = frozenset({"self", "cls"})
# Builtins whose call may be needless: conversions, ordering, rounding.
_UNWRAPPABLE = frozenset(
    {"int", "float", "str", "bool", "list", "tuple", "set", "frozenset", "sorted", "reversed"}
    | {"abs", "round", "repr"}
)


def _call(name: str, *args: cst.BaseExpression) -> cst.Call:
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    items = [cst.Arg(arg, comma=comma) for arg in args[:-1]] + [cst.Arg(args[-1])]
    return cst.Call(func=cst.Name(name), args=items)


def _bare(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.with_changes(lpar=(), rpar=())


def _is_numeric_difference(node: cst.BinaryOperation, ctx: Context) -> bool:
    """A subtraction of numbers: not of sets, sequences or strings."""
    if not isinstance(node.operator, cst.Subtract):
        return False
    names = usage(ctx)
    for operand in (node.left, node.right):
        if isinstance(operand, (*STRING_NODES, *DISPLAY_NODES)):
            return False
        if names.kind(operand) in ("str", "seq"):
            return False
        if isinstance(operand, cst.Call) and getattr(operand.func, "value", None) == "set":
            return False
    return True


def _bound_before(name: str, ctx: Context) -> bool:
    """Whether ``name`` is a parameter of the node's function or bound on an earlier line."""
    function = ctx.function_node
    for binding in scope_bindings(function, ctx) if function is not None else ():
        if binding.name == name:
            return binding.kind == "param" or ctx.line(binding.node) < ctx.line()
    return False


def _wrapped_by(ctx: Context, names: frozenset[str]) -> bool:
    """Whether the node is already an argument of a call of one of ``names``."""
    parent, call = ctx.parent, ctx.ancestor(2)
    return (
        isinstance(parent, cst.Arg)
        and isinstance(call, cst.Call)
        and isinstance(call.func, cst.Name)
        and call.func.value in names
    )


class WrapCall(SiteOperator):
    """Wrap a value in ``abs``, ``max(0, ...)``, or ``max``/``min`` with the variable it updates.

    The "missing logic" fix patterns of the literature (PAR's and TBar's method-call
    insertion; the missing absolute value or clamp of a distance). Sites: a subtraction of
    numbers ``a - b`` (variants ``abs(a - b)`` and ``max(0, a - b)``); and an assignment
    ``x = e`` to a variable that already holds a value, of a value that is not a literal,
    string or display (variants ``x = max(x, e)`` and ``x = min(x, e)``: a running maximum or
    minimum).
    """

    name = "wrap-call"
    coarse = True
    description = "Wrap a value in abs(...), max(0, ...), or max/min with the variable it updates."
    node_types: ClassVar = (cst.BinaryOperation, cst.Assign)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """``abs`` and ``max(0, ...)`` of a difference; ``max``/``min`` of an update."""
        if isinstance(node, cst.BinaryOperation):
            if not _is_numeric_difference(node, ctx) or _wrapped_by(ctx, frozenset({"abs"})):
                return []
            news = [_call("abs", _bare(node)), _call("max", cst.Integer("0"), _bare(node))]
            shown = snippet(node, _SHORT)
            return [
                Edit(in_place_of(new, node, ctx.parent), f"wrap {shown} in {wrapper}")
                for new, wrapper in zip(news, ("abs()", "max(0, ...)"), strict=True)
            ]
        assert isinstance(node, cst.Assign)
        return self._running(node, ctx)

    @staticmethod
    def _running(node: cst.Assign, ctx: Context) -> list[Edit]:
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return []
        target, value = node.targets[0].target, node.value
        if ctx.function_node is None or int_value(value) is not None:
            return []
        if isinstance(value, (*STRING_NODES, *DISPLAY_NODES, cst.Float)):
            return []
        if usage(ctx).kind(value) in ("str", "seq"):
            return []
        if not _bound_before(target.value, ctx):
            return []
        edits = []
        for name in ("max", "min"):
            new = _call(name, cst.Name(target.value), value)
            summary = f"wrap {snippet(value, _SHORT)} in {name}({target.value}, ...)"
            edits.append(Edit(node.with_changes(value=new), summary))
        return edits


class UnwrapCall(SiteOperator):
    """Drop a call around a value: ``f(x)`` becomes ``x``, ``x.m(...)`` becomes ``x``.

    The "excess logic" repair of the literature (TBar's and PAR's removal of a method call).
    Sites: a call with one positional argument of a conversion builtin (``int``, ``str``,
    ``list``, ``sorted``, ``abs``, ``round``...), of a function or class of the module, or of
    a module's function (``math.sqrt(x)``), whose variant is the argument; and a method call
    whose value is used (``s.strip().lower()``, ``xs.sort()`` returned), whose variant is the
    object it is called on (not ``self``, a module or a literal).
    """

    name = "unwrap-call"
    description = "Replace a call f(x) by its argument x, or a method call x.m() by x."
    node_types: ClassVar = (cst.Call,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The call's single argument, or the object of a method call."""
        assert isinstance(node, cst.Call)
        parent = ctx.parent
        if isinstance(parent, cst.Expr) or (isinstance(parent, cst.Call) and parent.func is node):
            return []
        func = node.func
        kinds = self._kinds(ctx)
        if _single_argument(node) and (
            (isinstance(func, cst.Name) and func.value in kinds)
            or (isinstance(func, cst.Attribute) and kinds.get(_head(func)) == "import")
        ):
            new = node.args[0].value
            summary = f"drop the call {dotted_name(func)}(...) around {snippet(new, _PART)}"
        elif isinstance(func, cst.Attribute) and _plain_object(func.value, kinds):
            new = func.value
            summary = f"drop the call .{func.attr.value}(...) on {snippet(new, _PART)}"
        else:
            return []
        return [Edit(in_place_of(new, node, parent), summary)]

    @staticmethod
    def _kinds(ctx: Context) -> dict[str, str]:
        """Callable names by kind: the module's functions, classes and imports, and builtins."""

        def compute() -> dict[str, str]:
            found = dict.fromkeys(_UNWRAPPABLE, "builtin")
            for b in scope_bindings(ctx.module, ctx):
                if b.kind in ("function", "class", "import"):
                    found[b.name] = b.kind
                else:
                    found.pop(b.name, None)
            return found

        return ctx.analysis.memo(("unwrap-kinds", ctx.module), compute)


def _single_argument(call: cst.Call) -> bool:
    return len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star


def _head(expr: cst.BaseExpression) -> str | None:
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr.value if isinstance(expr, cst.Name) else None


def _plain_object(expr: cst.BaseExpression, kinds: dict[str, str]) -> bool:
    """An object whose method result may be the wrong value: not a literal, module or self."""
    if isinstance(expr, (*STRING_NODES, *DISPLAY_NODES, cst.Integer, cst.Float)):
        return False
    if isinstance(expr, cst.Name):
        return expr.value not in _SELF and kinds.get(expr.value) != "import"
    return kinds.get(_head(expr) or "") != "import" and not (
        isinstance(expr, cst.Call) and getattr(expr.func, "value", None) == "super"
    )
