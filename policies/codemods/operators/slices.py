"""Slices: take part of a sequence (``x[1:]``, ``x[:k]``, ``x[::-1]``), or all of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst
from libcst.metadata import ExpressionContext

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import ATOM, in_place_of, make_int, names_in, parenthesize
from policies.codemods.scope import available_bindings, nearest, usage

_PART = 20  # the longest snippet of a part of a summary


def _slice(
    value: cst.BaseExpression,
    lower: cst.BaseExpression | None = None,
    upper: cst.BaseExpression | None = None,
    step: cst.BaseExpression | None = None,
) -> cst.Subscript:
    """``value[lower:upper:step]``, the missing parts left out."""
    part = cst.Slice(lower=lower, upper=upper, step=step)
    return cst.Subscript(value=parenthesize(value, ATOM), slice=[cst.SubscriptElement(part)])


# Calls whose result does not depend on the order of their argument's items.
_UNORDERED = frozenset({"sorted", "set", "frozenset", "sum", "min", "max", "any", "all", "len"})


def _argument_of(ctx: Context) -> str | None:
    """The name of the function the node is passed to, if it is an argument of a call."""
    call = ctx.ancestor(2)
    if isinstance(ctx.parent, cst.Arg) and isinstance(call, cst.Call):
        return call.func.value if isinstance(call.func, cst.Name) else None
    return None


class AddSlice(SiteOperator):
    """Use part of a sequence: ``x`` becomes ``x[1:]``, ``x[:-1]``, ``x[::-1]``, ``x[k:]``...

    The missing-slice repair (SimFix-style insertion of a subscript seen in similar code).
    Sites are values that evidently hold a string or sequence (a name iterated, sliced,
    indexed or passed to ``len`` in the function; a list comprehension; a call of
    ``sorted``, ``list``, ``str``, ``split``...), read as a whole: not the object of an
    attribute, subscript or call, nor the argument of ``len`` (``len(x[1:])`` is
    `off-by-one`'s ``len(x) - 1``). Variants: all but the first item, the reverse (unless the
    value goes to ``sorted``, ``set``, ``sum``... where order does not matter), then from and
    up to the nearest variable holding an integer, or else all but the last item.
    """

    name = "add-slice"
    coarse = True
    description = "Use part of a sequence: x[1:], x[::-1], x[k:], x[:k] or x[:-1]."
    node_types: ClassVar = (cst.Name, cst.ListComp, cst.Call)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The sliced sequence, up to four ways."""
        assert isinstance(node, cst.BaseExpression)
        parent = ctx.parent
        if isinstance(parent, cst.Attribute | cst.Subscript) and parent.value is node:
            return []
        callee = _argument_of(ctx)
        if (isinstance(parent, cst.Call) and parent.func is node) or callee == "len":
            return []
        if isinstance(node, cst.Name) and ctx.expression_context() is not ExpressionContext.LOAD:
            return []
        names = usage(ctx)
        if names.kind(node) not in ("str", "seq"):
            return []
        used = names_in(node)
        ints = [
            b
            for b in available_bindings(ctx)
            if b.kind in ("param", "variable")
            and b.name not in used
            and names.kind(cst.Name(b.name)) == "int"
        ]
        news = [_slice(node, lower=cst.Integer("1"))]
        if callee not in _UNORDERED:
            news.append(_slice(node, step=make_int(-1)))
        for name in nearest(ctx, ints, 1):
            news += [_slice(node, lower=cst.Name(name)), _slice(node, upper=cst.Name(name))]
        if len(news) < 3:
            news.append(_slice(node, upper=make_int(-1)))
        old = snippet(node, _PART)
        return [Edit(in_place_of(new, node, parent), f"take {_part(new)} of {old}") for new in news]


def _part(new: cst.Subscript) -> str:
    """The slice of ``new``, such as ``[1:]``."""
    return snippet(new.with_changes(value=cst.Name("x")))[1:]


class RemoveSlice(SiteOperator):
    """Use the whole sequence instead of a slice: ``x[a:b]`` becomes ``x``, ``x[a:]``...

    The "excess logic" repair at a slice (TBar's mutate-data-structure by removal). A slice
    ``x[a:b:c]`` that is read is a site; its variants are ``x`` alone, then, when the slice
    has more than one part, the slice without each of its parts in turn.
    """

    name = "remove-slice"
    coarse = True
    description = "Replace a slice x[a:b] by x, or drop one of its bounds."
    node_types: ClassVar = (cst.Subscript,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The sequence alone, then the slice without each of its parts."""
        assert isinstance(node, cst.Subscript)
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Slice):
            return []
        if ctx.expression_context() is not ExpressionContext.LOAD:
            return []
        part = node.slice[0].slice
        news: list[cst.BaseExpression] = [in_place_of(node.value, node, ctx.parent)]
        present = [field for field in ("lower", "upper", "step") if getattr(part, field)]
        if len(present) > 1:
            for field in present:
                shorter = part.with_changes(**{field: None})
                if field == "step":
                    shorter = shorter.with_changes(second_colon=cst.MaybeSentinel.DEFAULT)
                news.append(node.with_changes(slice=[node.slice[0].with_changes(slice=shorter)]))
        old = snippet(node, _PART)
        return [Edit(new, f"use {snippet(new, _PART)} instead of {old}") for new in news]
