"""Names: read another variable, or another attribute of the same object."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst
from libcst.metadata import ExpressionContext

from policies.codemods.analysis import Context
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import LITERAL_NAMES
from policies.codemods.scope import scope_bindings, visible_bindings

_SELF = frozenset({"self", "cls"})
_GROUP = {"param": "value", "variable": "value", "function": "function", "class": "class"}


class ReplaceName(SiteOperator):
    """Read another visible name of the same kind instead of this one.

    Sites are the names read in expressions that the module binds: a function's parameters
    and local variables, those of enclosing functions, and module-level names (builtins,
    imports, ``self``, ``cls``, ``True``, ``False`` and ``None`` are never sites). The
    alternatives are the other names of the same kind (variables and parameters; functions;
    classes) in that order, innermost scope first and in binding order within a scope, at
    most six.
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
        if ctx.expression_context() is not ExpressionContext.LOAD:
            return []
        bindings = visible_bindings(ctx)
        kind = next((b.kind for b in bindings if b.name == node.value), None)
        group = _GROUP.get(kind or "")
        if group is None:
            return []
        alternatives = [
            b.name
            for b in bindings
            if _GROUP.get(b.kind) == group and b.name != node.value and b.name not in _SELF
        ][: self.limit]
        return [
            Edit(node.with_changes(value=name), f"use {name} instead of {node.value}")
            for name in alternatives
        ]


class _AttributeCollector(cst.CSTVisitor):
    """Attribute names used on each base name, in first-use order, split into called or not."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[tuple[str, bool], list[str]] = {}
        self.called: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        self.called.add(id(node.func))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name):
            names = self.found.setdefault((node.value.value, id(node) in self.called), [])
            if node.attr.value not in names:
                names.append(node.attr.value)


class ReplaceAttribute(SiteOperator):
    """Read another attribute of the same object: ``self.width`` for ``self.height``.

    Sites are attribute reads ``obj.attr`` on a plain name. The alternatives are the other
    attributes used on a name spelled the same way, in the enclosing class (for ``self.x`` in
    a method) or else the whole module, in first-use order, then for ``self``/``cls`` the names
    the class body binds (dataclass fields, class constants, methods); at most four. A called
    attribute (a method) is only replaced by another called one, and data by data.
    """

    name = "replace-attribute"
    description = "Read another attribute of the same object, such as self.height for self.width."
    node_types: ClassVar = (cst.Attribute,)
    limit: ClassVar[int] = 4

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Up to four other attributes used on the same name."""
        assert isinstance(node, cst.Attribute)
        if not isinstance(node.value, cst.Name):
            return []
        if ctx.expression_context() is not ExpressionContext.LOAD:
            return []
        parent = ctx.parent
        called = isinstance(parent, cst.Call) and parent.func is node
        classes = [scope for scope in ctx.scopes if isinstance(scope, cst.ClassDef)]
        scope: cst.CSTNode = classes[-1] if classes else ctx.module

        def collect() -> dict[tuple[str, bool], list[str]]:
            collector = _AttributeCollector()
            scope.visit(collector)
            return collector.found

        found = ctx.analysis.memo(("attributes", scope), collect)
        base, attr = node.value.value, node.attr.value
        names = list(found.get((base, called), []))
        if base in _SELF and isinstance(scope, cst.ClassDef):
            kinds = ("function",) if called else ("variable",)
            names += [b.name for b in scope_bindings(scope, ctx) if b.kind in kinds]
        alternatives = list(dict.fromkeys(name for name in names if name != attr))
        return [
            Edit(
                node.with_changes(attr=node.attr.with_changes(value=name)),
                f"use {base}.{name} instead of {base}.{attr}",
            )
            for name in alternatives[: self.limit]
        ]
