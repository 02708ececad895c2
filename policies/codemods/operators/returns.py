"""Return values: return None, the negation, a constant, another parameter; flipped booleans."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.blocks import function_returns
from policies.codemods.nodes import DISPLAY_NODES, STRING_NODES, is_literal_name, negate
from policies.codemods.scope import parameters

_WHOLE = 10_000  # a snippet length that never truncates
_BOOL_CALLS = frozenset({"isinstance", "issubclass", "hasattr", "callable", "all", "any", "bool"})
_NUMBER_CALLS = frozenset({"len", "sum", "min", "max", "abs", "round", "int", "float", "pow"})
_ARITHMETIC = (
    cst.Add,
    cst.Subtract,
    cst.Multiply,
    cst.Divide,
    cst.FloorDivide,
    cst.Modulo,
    cst.Power,
)


def _called(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name):
        return expr.func.value
    return None


def is_boolean(expr: cst.BaseExpression) -> bool:
    """Whether ``expr`` looks boolean: a comparison, ``and``/``or``/``not``, True, isinstance."""
    return (
        isinstance(expr, cst.Comparison | cst.BooleanOperation)
        or (isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not))
        or is_literal_name(expr, "True", "False")
        or _called(expr) in _BOOL_CALLS
    )


def _is_number(expr: cst.BaseExpression) -> bool:
    return (
        isinstance(expr, cst.Integer | cst.Float)
        or (isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, _ARITHMETIC))
        or (isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus))
        or _called(expr) in _NUMBER_CALLS
    )


def _is_opaque(expr: cst.BaseExpression) -> bool:
    """A value of unknown type: a variable, attribute, item or call."""
    if isinstance(expr, cst.Name):
        return not is_literal_name(expr)
    return isinstance(expr, cst.Attribute | cst.Subscript | cst.Call) and not (
        is_boolean(expr) or _is_number(expr)
    )


class ReturnValue(SiteOperator):
    """Return something else: ``None``, the negation, ``0``, ``True``/``False``, a parameter.

    Each ``return X`` in a function is a site. Variants, where sensible for what ``X`` looks
    like: ``return None`` (unless ``X`` is None); ``return not X`` (or ``X`` without its
    ``not``) for a boolean or opaque value; ``return 0`` for a number or opaque value;
    ``return True`` and ``return False`` for a boolean or opaque value; and when ``X`` is a
    parameter or a local name, each of up to two other parameters of the function. Strings
    and displays only get ``None``.
    """

    name = "return-value"
    description = "Return None, the negation, 0, True, False or another parameter instead."
    node_types: ClassVar = (cst.Return,)
    parameter_limit: ClassVar[int] = 2

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The other values the return statement can give."""
        assert isinstance(node, cst.Return)
        value = node.value
        function = ctx.function_node
        if value is None or function is None:
            return []
        boolean, number, opaque = is_boolean(value), _is_number(value), _is_opaque(value)
        new: list[cst.BaseExpression] = []
        if not is_literal_name(value, "None"):
            new.append(cst.Name("None"))
        if boolean or opaque:
            new.append(negate(value))
        if number or opaque:
            new.append(cst.Integer("0"))
        if boolean or opaque:
            new += [cst.Name("True"), cst.Name("False")]
        if isinstance(value, cst.Name) and opaque:
            others = [
                param.name.value
                for param in parameters(function)
                if param.name.value not in ("self", "cls", value.value)
            ]
            new += [cst.Name(name) for name in others[: self.parameter_limit]]
        if isinstance(value, (*STRING_NODES, *DISPLAY_NODES)):
            new = new[:1]
        old = snippet(value, 30)
        edits = []
        seen = {snippet(value, _WHOLE)}
        for expr in new:
            text = snippet(expr, _WHOLE)
            if text in seen:
                continue
            seen.add(text)
            space = node.whitespace_after_return
            if isinstance(space, cst.SimpleWhitespace) and not space.value and not expr.lpar:
                space = cst.MaybeSentinel.DEFAULT  # ``return(x)`` becomes ``return None``
            replacement = node.with_changes(value=expr, whitespace_after_return=space)
            edits.append(Edit(replacement, f"return {snippet(expr, 30)} instead of {old}"))
        return edits


class _ReturnFlipper(cst.CSTTransformer):
    """Turns each ``return True`` of one function's own code into ``return False``, and back."""

    def __init__(self, root: cst.FunctionDef) -> None:
        super().__init__()
        self.root = root

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.root

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        value = updated_node.value
        if value is None or not is_literal_name(value, "True", "False"):
            return updated_node
        flipped = "False" if cst.ensure_type(value, cst.Name).value == "True" else "True"
        return updated_node.with_changes(value=value.with_changes(value=flipped))


class FlipReturns(SiteOperator):
    """Swap ``return True`` and ``return False`` throughout a function: the inverted predicate.

    A predicate that answers the opposite question returns ``True`` where it should return
    ``False`` and the other way round, at every exit, which no single-return edit repairs.
    The first ``return True`` or ``return False`` of a function that has both is the site,
    with one variant: every such return of the function's own code flipped.
    """

    name = "flip-returns"
    description = "Swap return True and return False throughout a function that has both."
    node_types: ClassVar = (cst.Return,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The enclosing function with every boolean return flipped."""
        assert isinstance(node, cst.Return)
        function = ctx.function_node
        if (
            function is None
            or node.value is None
            or not is_literal_name(node.value, "True", "False")
        ):
            return []
        literals = [
            ret
            for ret in function_returns(function, ctx)
            if ret.value is not None and is_literal_name(ret.value, "True", "False")
        ]
        values = {cst.ensure_type(ret.value, cst.Name).value for ret in literals}
        if literals[0] is not node or values != {"True", "False"}:
            return []
        flipped = function.visit(_ReturnFlipper(function))
        return [Edit(flipped, "swap True and False in every return", target=function)]
