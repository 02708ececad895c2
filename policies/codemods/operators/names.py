"""Names: read another variable, or another attribute of the same object."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst
from libcst.metadata import ExpressionContext

from policies.codemods.analysis import Context
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import LITERAL_NAMES, dotted_name
from policies.codemods.scope import (
    available_bindings,
    local_bindings,
    scope_bindings,
    usage,
    visible_bindings,
)

_SELF = frozenset({"self", "cls"})
_GROUP = {"param": "value", "variable": "value", "function": "function", "class": "class"}


def _compatible(kind: str | None, other: str | None) -> bool:
    """Whether values of two kinds may stand for each other: unknown goes with anything."""
    if kind is None or other is None:
        return True
    return (kind == "int") == (other == "int")


class ReplaceName(SiteOperator):
    """Read another visible name of the same kind instead of this one (PAR's variable replacer).

    Sites are the names read in expressions that the module binds: a function's parameters
    and local variables, those of enclosing functions, comprehension and lambda variables,
    and module-level names (builtins, imports, ``self``, ``cls``, ``True``, ``False`` and
    ``None`` are never sites); the target of ``x += ...`` is read too. The alternatives are
    the other names of the same kind (variables and parameters; functions; classes) that may
    hold a value there: comprehension variables first, then innermost scope first and in
    binding order within a scope, at most six. A local variable first bound below the site,
    outside any loop, is not offered: it could only raise ``UnboundLocalError``.
    """

    name = "replace-name"
    description = "Read another variable of the same kind visible in the scope instead of this one."
    node_types: ClassVar = (cst.Name,)
    limit: ClassVar[int] = 6

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Up to six other names of the same kind."""
        assert isinstance(node, cst.Name)
        if node.value in LITERAL_NAMES or node.value in _SELF:
            return []
        parent = ctx.parent
        if isinstance(parent, cst.Arg) and parent.keyword is node:
            return []
        augmented = isinstance(parent, cst.AugAssign) and parent.target is node
        if not augmented and ctx.expression_context() is not ExpressionContext.LOAD:
            return []
        everything = [*local_bindings(ctx), *visible_bindings(ctx)]
        kind = next((b.kind for b in everything if b.name == node.value), None)
        group = _GROUP.get(kind or "")
        if group is None:
            return []
        names = usage(ctx)
        here = names.kind(node)
        own = {b.name for b in scope_bindings(ctx.scopes[-1], ctx)} if ctx.scopes else set()
        alternatives = [
            b.name
            for b in available_bindings(ctx)
            if _GROUP.get(b.kind) == group
            and b.name not in (node.value, *_SELF)
            and (not augmented or b.name in own)
            and _compatible(here, names.kind(cst.Name(b.name)))
        ][: self.limit]
        return [
            Edit(node.with_changes(value=name), f"use {name} instead of {node.value}")
            for name in alternatives
        ]


class _AttributeCollector(cst.CSTVisitor):
    """Attribute names used on each base, in first-use order, split into called or not.

    ``found`` is keyed by the base's code and whether the attribute is called; ``anywhere``
    by whether it is called, with the base name (or None) of each attribute's first use.
    """

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[tuple[str, bool], list[str]] = {}
        self.anywhere: dict[bool, dict[str, cst.Attribute]] = {True: {}, False: {}}
        self.called: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        self.called.add(id(node.func))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        called = id(node) in self.called
        names = self.found.setdefault((_code(node.value), called), [])
        if node.attr.value not in names:
            names.append(node.attr.value)
        self.anywhere[called].setdefault(node.attr.value, node)


def _code(node: cst.CSTNode) -> str:
    return " ".join(_EMPTY.code_for_node(node).split())


_EMPTY = cst.Module(body=[])


class ReplaceAttribute(SiteOperator):
    """Read another attribute of the same object: ``self.width`` for ``self.height``.

    PAR's field replacer, with SimFix's idea of taking the replacement from similar code.
    Sites are attribute reads ``obj.attr``. The alternatives are the other attributes used on
    a base written the same way, in the enclosing class (for ``self.x`` in a method) or else
    the whole module, in first-use order; then for ``self``/``cls`` the names the class body
    binds (dataclass fields, class constants, methods); then, unless the base is ``self``,
    ``cls`` or an imported module, up to two attributes used on other objects of the module,
    those first used nearest first; at most four. A called attribute (a method) is only
    replaced by another called one, and data by data.
    """

    name = "replace-attribute"
    description = "Read another attribute of the same object, such as self.height for self.width."
    node_types: ClassVar = (cst.Attribute,)
    limit: ClassVar[int] = 4
    elsewhere: ClassVar[int] = 2

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Up to four other attributes used on the same object, or elsewhere in the module."""
        assert isinstance(node, cst.Attribute)
        if ctx.expression_context() is not ExpressionContext.LOAD:
            return []
        parent = ctx.parent
        called = isinstance(parent, cst.Call) and parent.func is node
        classes = [scope for scope in ctx.scopes if isinstance(scope, cst.ClassDef)]
        scope: cst.CSTNode = classes[-1] if classes else ctx.module
        base, attr = _code(node.value), node.attr.value
        names = list(_attributes(scope, ctx).found.get((base, called), []))
        if base in _SELF and isinstance(scope, cst.ClassDef):
            kinds = ("function",) if called else ("variable",)
            names += [b.name for b in scope_bindings(scope, ctx) if b.kind in kinds]
        names = list(dict.fromkeys(name for name in names if name != attr))
        if base not in _SELF and not on_module(node.value, ctx):
            names += self._elsewhere(ctx, called, {attr, *names})
        shown = f"{dotted_name(node.value) or ''}."  # never a fragment such as ``{...}.``
        return [
            Edit(
                node.with_changes(attr=node.attr.with_changes(value=name)),
                f"use {shown}{name} instead of {shown}{attr}",
            )
            for name in names[: self.limit]
        ]

    def _elsewhere(self, ctx: Context, called: bool, taken: set[str]) -> list[str]:
        here = ctx.line()
        others = [
            (abs(ctx.line(first) - here), ctx.line(first), name)
            for name, first in _attributes(ctx.module, ctx).anywhere[called].items()
            if name not in taken and not on_module(first.value, ctx)
        ]
        return [name for *_, name in sorted(others)[: self.elsewhere]]


def _attributes(scope: cst.CSTNode, ctx: Context) -> _AttributeCollector:
    def collect() -> _AttributeCollector:
        collector = _AttributeCollector()
        scope.visit(collector)
        return collector

    return ctx.analysis.memo(("attributes", scope), collect)


def on_module(base: cst.BaseExpression, ctx: Context) -> bool:
    """Whether ``base`` is an imported name (or a dotted name on one): a module, probably."""
    while isinstance(base, cst.Attribute):
        base = base.value
    if not isinstance(base, cst.Name):
        return False
    imports = ctx.analysis.memo(
        ("imports", ctx.module),
        lambda: {b.name for b in scope_bindings(ctx.module, ctx) if b.kind == "import"},
    )
    return base.value in imports
