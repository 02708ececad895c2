"""Names bound in scope: what an operator may put in place of a name, a call or a literal."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from policies.codemods.analysis import Context


@dataclass(frozen=True)
class Binding:
    """A name bound in a scope.

    Attributes:
        name: The name.
        kind: ``"param"``, ``"variable"``, ``"function"``, ``"class"`` or ``"import"``.
        node: The node that binds it first.
    """

    name: str
    kind: str
    node: cst.CSTNode


def target_names(target: cst.BaseExpression) -> list[cst.Name]:
    """The names an assignment target binds (through tuples, lists and stars)."""
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, cst.Tuple | cst.List):
        return [name for element in target.elements for name in target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return []


class _BindingCollector(cst.CSTVisitor):
    """Names bound by one scope's own code, in source order."""

    def __init__(self, root: cst.CSTNode) -> None:
        super().__init__()
        self.root = root
        self.found: list[Binding] = []

    def add(self, target: cst.BaseExpression, kind: str = "variable") -> None:
        self.found.extend(Binding(name.value, kind, name) for name in target_names(target))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node is self.root:
            return True
        self.found.append(Binding(node.name.value, "function", node))
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        if node is self.root:
            return True
        self.found.append(Binding(node.name.value, "class", node))
        return False

    def visit_Parameters(self, node: cst.Parameters) -> bool:
        return False

    def visit_Decorator(self, node: cst.Decorator) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return False

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return False

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return False

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            if alias.asname is not None:
                self.add(alias.asname.name, "import")  # type: ignore[arg-type]
            else:
                head = alias.name
                while isinstance(head, cst.Attribute):
                    head = head.value  # type: ignore[assignment]
                self.add(head, "import")
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                name = alias.asname.name if alias.asname is not None else alias.name
                self.add(name, "import")  # type: ignore[arg-type]
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.add(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.add(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.add(node.target)

    def visit_For(self, node: cst.For) -> None:
        self.add(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.add(node.asname.name)  # type: ignore[arg-type]

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self.add(node.name.name)  # type: ignore[arg-type]

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.add(node.target)


def parameters(function: cst.FunctionDef) -> list[cst.Param]:
    """A function's parameters in signature order, ``*args`` and ``**kwargs`` included."""
    params = function.params
    found = [*params.posonly_params, *params.params]
    if isinstance(params.star_arg, cst.Param):
        found.append(params.star_arg)
    found += params.kwonly_params
    if params.star_kwarg is not None:
        found.append(params.star_kwarg)
    return found


def scope_bindings(
    scope: cst.Module | cst.FunctionDef | cst.ClassDef, ctx: Context
) -> list[Binding]:
    """The names ``scope`` binds, each once (its first binding), in order: parameters first."""

    def compute() -> list[Binding]:
        found: list[Binding] = []
        if isinstance(scope, cst.FunctionDef):
            found += [Binding(param.name.value, "param", param) for param in parameters(scope)]
        collector = _BindingCollector(scope)
        scope.visit(collector)
        seen: set[str] = set()
        unique = []
        for binding in [*found, *collector.found]:
            if binding.name not in seen:
                seen.add(binding.name)
                unique.append(binding)
        return unique

    return ctx.analysis.memo(("bindings", scope), compute)


def visible_bindings(ctx: Context) -> list[Binding]:
    """The names visible at the context's node, innermost scope first, each once.

    The function's own names, then those of enclosing functions, then the module's (a class
    body's names are visible only directly in that body, as in Python).
    """
    scopes: list[cst.Module | cst.FunctionDef | cst.ClassDef] = []
    for depth, scope in enumerate(reversed(ctx.scopes)):
        if isinstance(scope, cst.FunctionDef) or depth == 0:
            scopes.append(scope)
    scopes.append(ctx.module)
    seen: set[str] = set()
    found = []
    for scope in scopes:
        for binding in scope_bindings(scope, ctx):
            if binding.name not in seen:
                seen.add(binding.name)
                found.append(binding)
    return found
