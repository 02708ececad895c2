"""Names in scope: where each is bound, which may hold a value at a node, and what they hold."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import libcst as cst

from policies.codemods.analysis import Context
from policies.codemods.nodes import expression_kind


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


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def _comprehension_names(comp: cst.BaseComp, below: cst.CSTNode) -> list[Binding]:
    """The names a comprehension binds where ``below`` (its child on the path) runs."""
    found: list[Binding] = []
    clause: cst.CompFor | None = comp.for_in
    while clause is not None:
        if below is clause and clause is comp.for_in:
            return []  # the first iterable runs in the enclosing scope
        found += [Binding(name.value, "variable", name) for name in target_names(clause.target)]
        clause = clause.inner_for_in
    return found


def local_bindings(ctx: Context) -> list[Binding]:
    """Names bound by the comprehensions and lambdas around the node, innermost first."""
    chain = (*ctx.ancestors, ctx.node)
    found: list[Binding] = []
    for owner, below in itertools.pairwise(chain):
        if isinstance(owner, _COMPREHENSIONS):
            found[:0] = _comprehension_names(owner, below)
        elif isinstance(owner, cst.Lambda) and below is owner.body:
            params = owner.params
            names = [*params.posonly_params, *params.params, *params.kwonly_params]
            found[:0] = [Binding(param.name.value, "param", param) for param in names]
    return found


def _in_loop(ctx: Context, scope: cst.CSTNode) -> bool:
    """Whether the node may run more than once in ``scope``: in a loop's body or while test."""
    chain = (*ctx.ancestors, ctx.node)
    start = next(i for i, node in enumerate(chain) if node is scope)
    return any(
        (isinstance(node, cst.For) and below is node.body) or isinstance(node, cst.While)
        for node, below in itertools.pairwise(chain[start:])
    )


def available_bindings(ctx: Context) -> list[Binding]:
    """The visible names that may hold a value when the node runs, innermost first.

    Comprehension and lambda variables come first. A variable of the node's own scope is left
    out when it is first bound on the node's line or below, outside any loop: reading it there
    could only raise ``UnboundLocalError`` (or ``NameError``).
    """
    scope: cst.Module | cst.FunctionDef | cst.ClassDef = (
        ctx.scopes[-1] if ctx.scopes else ctx.module
    )
    own = {binding.name for binding in scope_bindings(scope, ctx)}
    looping = _in_loop(ctx, scope)
    here = ctx.line()
    local = local_bindings(ctx)
    found: list[Binding] = []
    seen: set[str] = set()
    for binding in [*local, *visible_bindings(ctx)]:
        if binding.name in seen:
            continue
        seen.add(binding.name)
        later = binding.kind == "variable" and ctx.line(binding.node) >= here
        if later and binding.name in own and not looping and binding not in local:
            continue
        found.append(binding)
    return found


def nearest(ctx: Context, bindings: list[Binding], limit: int) -> list[str]:
    """The names of up to ``limit`` bindings, the ones bound nearest to the node first."""
    here = ctx.line()
    ranked = sorted(bindings, key=lambda b: (abs(ctx.line(b.node) - here), ctx.line(b.node)))
    return [binding.name for binding in ranked[:limit]]


@dataclass(frozen=True)
class Usage:
    """What a scope's names are seen to hold, from how its own code uses them.

    Simple local evidence, enough to keep edits type-plausible: a name iterated, sliced or
    passed to ``len`` holds a sequence; one bound by ``for ... in range(...)``, compared with or
    added to an integer, or used as a slice bound holds an integer.

    Attributes:
        ints: Names seen holding integers.
        sequences: Names seen holding sequences (strings, lists, tuples).
        strings: Names seen holding strings.
    """

    ints: frozenset[str]
    sequences: frozenset[str]
    strings: frozenset[str]

    def kind(self, expr: cst.BaseExpression) -> str | None:
        """``"int"``, ``"str"``, ``"seq"`` or None (unknown): see `expression_kind`."""
        return expression_kind(expr, self)


_ORDERING = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)
_ORDERING += (cst.Equal, cst.NotEqual)
_ANNOTATED = {"int": "int", "str": "str", "list": "seq", "List": "seq", "tuple": "seq"}
_ANNOTATED |= {"Tuple": "seq", "Sequence": "seq"}
_STRING_USES = frozenset(
    {"startswith", "endswith", "isdigit", "isalpha", "isupper", "islower", "isspace", "isalnum"}
    | {"lower", "upper", "strip", "lstrip", "rstrip", "split", "swapcase", "capitalize", "join"}
)
_SEQUENCE_USES = frozenset({"append", "extend", "insert", "pop", "sort", "reverse", "index"})


class _UsageCollector(cst.CSTVisitor):
    """Evidence of what names hold, from one scope's code (nested scopes included)."""

    def __init__(self) -> None:
        super().__init__()
        self.kinds: dict[str, set[str]] = {"int": set(), "seq": set(), "str": set()}
        self.assigned: list[tuple[str, cst.BaseExpression]] = []

    def note(self, expr: cst.BaseExpression | None, kind: str) -> None:
        if isinstance(expr, cst.Name):
            self.kinds[kind].add(expr.value)
            if kind == "str":
                self.kinds["seq"].add(expr.value)

    def result(self) -> Usage:
        for _ in range(2):  # ``j = i + 1`` after ``i = len(xs)``: two rounds
            names = Usage(*(frozenset(self.kinds[k]) for k in ("int", "seq", "str")))
            for name, value in self.assigned:
                kind = names.kind(value)
                if kind is not None:
                    self.note(cst.Name(name), kind)
        return Usage(*(frozenset(self.kinds[k]) for k in ("int", "seq", "str")))

    def visit_Param(self, node: cst.Param) -> None:
        annotation = node.annotation.annotation if node.annotation else None
        if isinstance(annotation, cst.Subscript):
            annotation = annotation.value
        if isinstance(annotation, cst.Name) and annotation.value in _ANNOTATED:
            self.note(node.name, _ANNOTATED[annotation.value])

    def visit_For(self, node: cst.For) -> None:
        self.iterated(node.target, node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.iterated(node.target, node.iter)

    def iterated(self, target: cst.BaseExpression, iterable: cst.BaseExpression) -> None:
        called = iterable.func if isinstance(iterable, cst.Call) else None
        if isinstance(called, cst.Name) and called.value == "range":
            self.note(target, "int")
        elif isinstance(called, cst.Name) and called.value == "enumerate":
            if isinstance(target, cst.Tuple) and target.elements:
                self.note(target.elements[0].value, "int")
            self.note(iterable.args[0].value if iterable.args else None, "seq")  # type: ignore[attr-defined]
        else:
            self.note(iterable, "seq")

    def visit_Call(self, node: cst.Call) -> None:
        func, args = node.func, [arg.value for arg in node.args]
        if isinstance(func, cst.Name) and func.value == "len" and len(args) == 1:
            self.note(args[0], "seq")
        elif isinstance(func, cst.Name) and func.value == "range":
            for arg in args:
                self.note(arg, "int")
        elif isinstance(func, cst.Attribute) and func.attr.value in _STRING_USES:
            self.note(func.value, "str")
        elif isinstance(func, cst.Attribute) and func.attr.value in _SEQUENCE_USES:
            self.note(func.value, "seq")

    def visit_Subscript(self, node: cst.Subscript) -> None:
        for element in node.slice:
            if isinstance(element.slice, cst.Slice):
                self.note(node.value, "seq")
                for bound in (element.slice.lower, element.slice.upper):
                    self.note(bound, "int")

    def visit_Comparison(self, node: cst.Comparison) -> None:
        left = node.left
        for link in node.comparisons:
            right = link.comparator
            if isinstance(link.operator, _ORDERING):
                if isinstance(right, cst.Integer):
                    self.note(left, "int")
                if isinstance(left, cst.Integer):
                    self.note(right, "int")
            left = right

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Add | cst.Subtract | cst.FloorDivide | cst.Modulo):
            if isinstance(node.right, cst.Integer):
                self.note(node.left, "int")
            if isinstance(node.left, cst.Integer):
                self.note(node.right, "int")

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.assigned.append((node.target.value, node.value))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.assigned.append((target.target.value, node.value))


def usage(ctx: Context) -> Usage:
    """The `Usage` of the names of the node's function (or of the module outside functions)."""
    scope = ctx.function_node or ctx.module

    def compute() -> Usage:
        collector = _UsageCollector()
        scope.visit(collector)
        return collector.result()

    return ctx.analysis.memo(("usage", scope), compute)
