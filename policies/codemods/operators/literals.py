"""Literals: another literal of the module, a nearby shape, or a variable for a constant."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst
from libcst.metadata import ExpressionContext

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import LITERAL_NAMES, int_value, make_int, with_outer_parens
from policies.codemods.scope import available_bindings, nearest

_TOKEN = 8  # the longest string that is a token (a separator, a key), not a message
_WORD = 20  # the longest snippet of a literal in a summary


@dataclass
class _Literal:
    """A value written as a literal in the module: its first node and every line it is on."""

    node: cst.BaseExpression
    lines: list[int]

    def distance(self, line: int) -> int:
        """How far from ``line`` the nearest occurrence is, in lines."""
        at = bisect.bisect_left(self.lines, line)
        near = self.lines[max(at - 1, 0) : at + 1]
        return min(abs(other - line) for other in near)


def _literals(ctx: Context) -> dict[object, _Literal]:
    """The module's short strings and integers by value (keyed with their type), in order."""

    def collect() -> dict[object, _Literal]:
        found: dict[object, _Literal] = {}
        for node, ancestors in ctx.analysis.nodes:
            if isinstance(node, cst.SimpleString) and _is_token(node, ancestors):
                key: object = (type(node.evaluated_value), node.evaluated_value)
            elif _is_number(node, ancestors):
                key = (int, int_value(node))  # type: ignore[arg-type]
            else:
                continue
            literal = found.setdefault(key, _Literal(node, []))
            literal.lines.append(ctx.analysis.line(node))
        return found

    return ctx.analysis.memo(("literals", ctx.module), collect)


def _by_distance(ctx: Context, kind: type) -> list[tuple[object, _Literal]]:
    """The module's literals of one type, as ``(value, literal)``, nearest first."""
    here = ctx.line()
    found = [(key[1], lit) for key, lit in _literals(ctx).items() if key[0] is kind]  # type: ignore[index]
    return sorted(found, key=lambda item: (item[1].distance(here), item[1].lines[0]))


def _is_token(node: cst.SimpleString, ancestors: tuple[cst.CSTNode, ...]) -> bool:
    """A short string on its own: not part of an implicit concatenation or an f-string."""
    if any(isinstance(a, cst.ConcatenatedString | cst.FormattedString) for a in ancestors):
        return False
    value = node.evaluated_value
    return isinstance(value, str | bytes) and len(value) <= _TOKEN


def _is_number(node: cst.CSTNode, ancestors: tuple[cst.CSTNode, ...]) -> bool:
    """An integer literal, ``-`` included (its digits alone are not one)."""
    if isinstance(node, cst.Integer):
        return not _is_negated(ancestors)
    return isinstance(node, cst.UnaryOperation) and int_value(node) is not None


def _is_negated(ancestors: tuple[cst.CSTNode, ...]) -> bool:
    parent = ancestors[-1] if ancestors else None
    return isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Minus)


class ReplaceLiteral(SiteOperator):
    """Use another literal: one of the module, a nearby shape, or a variable for a constant.

    The wrong-constant repair of the literature (PAR's and TBar's literal replacers, SimFix's
    similar-code donors). Sites and variants, likeliest first:

    * a short string (eight characters or fewer: a separator, key or token, not a message):
      ``''`` for ``' '`` and back, then the other short strings of the module (of the same
      type, nearest first); at most three;
    * an integer: ``-1``, then the other integers of the module, nearest first, leaving out
      the values `constant-tweak` gives (``n ± 1``, ``0``, ``1``, ``-n``); at most two;
    * ``[]`` for ``[[]]`` and back;
    * ``True``, ``False`` or ``None`` in a function: the two variables bound nearest that may
      hold a value there (not in ``is None`` tests).
    """

    name = "replace-literal"
    description = "Use another literal of the module, a nearby shape, or a variable for True/None."
    node_types: ClassVar = (cst.SimpleString, cst.Integer, cst.UnaryOperation, cst.List, cst.Name)
    limit: ClassVar[int] = 3
    int_limit: ClassVar[int] = 2
    name_limit: ClassVar[int] = 2

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The other literals or names that may stand here."""
        assert isinstance(node, cst.BaseExpression)
        if ctx.function_node is None:  # module tables, ``__all__``, defaults: data, not logic
            return []
        if isinstance(node, cst.SimpleString):
            news = self._strings(node, ctx)
        elif isinstance(node, cst.Integer | cst.UnaryOperation):
            news = self._integers(node, ctx)
        elif isinstance(node, cst.List):
            news = _list_shapes(node, ctx)
        else:
            news = self._names(node, ctx)  # type: ignore[arg-type]
        old = snippet(node, _WORD)
        return [
            Edit(with_outer_parens(new, node), f"use {snippet(new, _WORD)} instead of {old}")
            for new in news
        ]

    def _strings(self, node: cst.SimpleString, ctx: Context) -> list[cst.BaseExpression]:
        if not _is_token(node, ctx.ancestors):
            return []
        value = node.evaluated_value
        news: list[cst.BaseExpression] = []
        quote = node.quote
        if value in ("", " "):
            other = " " if value == "" else ""
            news.append(node.with_changes(value=f"{node.prefix}{quote}{other}{quote}"))
        seen = {value, *(["", " "] if value in ("", " ") else [])}
        for other, literal in _by_distance(ctx, type(value)):
            if other not in seen and len(news) < self.limit:
                seen.add(other)
                news.append(literal.node.with_changes(lpar=(), rpar=()))
        return news

    def _integers(self, node: cst.BaseExpression, ctx: Context) -> list[cst.BaseExpression]:
        if not _is_number(node, ctx.ancestors):
            return []
        value = int_value(node)
        assert value is not None
        parent = ctx.parent
        subtracted = (
            isinstance(parent, cst.BinaryOperation)
            and isinstance(parent.operator, cst.Add | cst.Subtract)
            and parent.right is node
        )
        seen = {value, value + 1, value - 1, 0, 1, -value}
        wanted = [-1, *(other for other, _ in _by_distance(ctx, int))]
        news: list[cst.BaseExpression] = []
        for number in wanted:
            if number not in seen and not (subtracted and number < 0):  # no ``n - -1``
                seen.add(number)
                news.append(make_int(number))
        return news[: self.int_limit]

    def _names(self, node: cst.Name, ctx: Context) -> list[cst.BaseExpression]:
        if node.value not in LITERAL_NAMES:
            return []
        if ctx.expression_context() is not ExpressionContext.LOAD:
            return []
        parent = ctx.parent
        if isinstance(parent, cst.ComparisonTarget) and isinstance(
            parent.operator, cst.Is | cst.IsNot
        ):
            return []
        values = [b for b in available_bindings(ctx) if b.kind in ("param", "variable")]
        return [cst.Name(name) for name in nearest(ctx, values, self.name_limit)]


def _list_shapes(node: cst.List, ctx: Context) -> list[cst.BaseExpression]:
    """``[[]]`` for ``[]``, ``[]`` for ``[[]]`` (whose inner ``[]`` is not a site)."""
    outer = ctx.ancestor(2)
    if isinstance(outer, cst.List) and len(outer.elements) == 1 and not node.elements:
        return []
    if not node.elements:
        return [node.with_changes(elements=[cst.Element(cst.List(elements=[]))])]
    only = node.elements[0].value if len(node.elements) == 1 else None
    if isinstance(only, cst.List) and not only.elements:
        return [node.with_changes(elements=[])]
    return []
