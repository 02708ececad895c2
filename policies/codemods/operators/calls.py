"""Calls and operands: swapped arguments, operands or elements; min/max, any/all; rounding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import STRING_NODES, binary_precedence, dotted_name, parenthesize
from policies.codemods.scope import Usage, usage

_NON_COMMUTATIVE = (
    cst.Subtract,
    cst.Divide,
    cst.FloorDivide,
    cst.Modulo,
    cst.Power,
    cst.LeftShift,
    cst.RightShift,
    cst.MatrixMultiply,
)
_WHOLE = 10_000
_SHORT = 30  # the longest snippet in a summary
_PART = 20  # the longest snippet of one of two parts of a summary
_SYMMETRIC = frozenset({"min", "max"})  # swapping their arguments changes nothing


class SwapArgs(SiteOperator):
    """Swap two adjacent arguments, operands or elements (PAR's parameter-order fix).

    A call with two or more leading positional arguments is a site; each adjacent pair
    (first and second, second and third...) is a variant, unless both are the same code
    (``min`` and ``max`` calls are left alone: their argument order does not matter). Only
    the argument values move: commas, spacing and comments stay. A non-commutative binary
    operation is a site with one variant, its operands swapped (parenthesized where
    precedence needs it): ``-``, ``/``, ``//``, ``%``, ``**``, ``<<``, ``>>``, ``@``, and ``+``
    when an operand is a string or a sequence (concatenation is not commutative); ``%``
    formatting of a string is left alone, and comparisons are `compare-swap`'s. A tuple or
    list display of two to four elements (``return a, b``, ``for i, x in ...``) is a site too,
    each adjacent pair of elements a variant; not a tuple of types (``except (A, B)``).
    """

    name = "swap-args"
    description = "Swap two adjacent arguments of a call, the operands of a - b, or two elements."
    node_types: ClassVar = (cst.Call, cst.BinaryOperation, cst.Tuple, cst.List)
    display_limit: ClassVar[int] = 4

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Each adjacent pair of arguments or elements swapped, or the operands swapped."""
        if isinstance(node, cst.BinaryOperation):
            return self._operands(node, ctx)
        if isinstance(node, cst.Tuple | cst.List):
            if not 2 <= len(node.elements) <= self.display_limit or _types(node):
                return []
            return _pairs(node, "elements", lambda a, b: f"swap the elements {a} and {b}")
        assert isinstance(node, cst.Call)
        if isinstance(node.func, cst.Name) and node.func.value in _SYMMETRIC:
            return []
        name = dotted_name(node.func)
        of = f"{name}(...)" if name and len(name) <= _SHORT else "the call"
        return _pairs(node, "args", lambda a, b: f"swap the arguments {a} and {b} of {of}")

    @staticmethod
    def _operands(node: cst.BinaryOperation, ctx: Context) -> list[Edit]:
        if isinstance(node.operator, cst.Add):
            names = usage(ctx)
            if not any(_is_sequence(operand, names) for operand in (node.left, node.right)):
                return []
        elif not isinstance(node.operator, _NON_COMMUTATIVE):
            return []
        if isinstance(node.operator, cst.Modulo) and isinstance(node.left, STRING_NODES):
            return []
        if snippet(node.left, _WHOLE) == snippet(node.right, _WHOLE):
            return []
        level = binary_precedence(node.operator)
        if isinstance(node.operator, cst.Power):  # right-associative; ``a ** -b`` is fine
            left, right = parenthesize(node.right, level + 1), parenthesize(node.left, level - 1)
        else:
            left, right = parenthesize(node.right, level), parenthesize(node.left, level + 1)
        summary = f"swap the operands of {snippet(node, _SHORT)}"
        return [Edit(node.with_changes(left=left, right=right), summary)]


_TYPES = frozenset({"int", "float", "str", "bytes", "bool", "list", "tuple", "dict", "set"})


def _types(node: cst.Tuple | cst.List) -> bool:
    """A tuple of types (``except (A, B)``, ``isinstance(x, (int, float))``): order is moot."""
    return all(
        isinstance(e.value, cst.Name) and (e.value.value in _TYPES or e.value.value[:1].isupper())
        for e in node.elements
    )


def _is_sequence(expr: cst.BaseExpression, names: Usage) -> bool:
    """A string or sequence: by evidence, or any slice ``x[a:b]``."""
    if names.kind(expr) in ("str", "seq"):
        return True
    return isinstance(expr, cst.Subscript) and any(
        isinstance(element.slice, cst.Slice) for element in expr.slice
    )


def _pairs(
    node: cst.Call | cst.Tuple | cst.List, field: str, summary: Callable[[str, str], str]
) -> list[Edit]:
    """Each adjacent pair of leading plain items (arguments or elements) of ``node`` swapped."""
    items = list(getattr(node, field))
    count = next(
        (
            i
            for i, item in enumerate(items)
            if getattr(item, "keyword", None) is not None
            or getattr(item, "star", "")
            or isinstance(item, cst.StarredElement)
        ),
        len(items),
    )
    edits = []
    for i in range(count - 1):
        first, second = items[i], items[i + 1]
        if snippet(first.value, _WHOLE) == snippet(second.value, _WHOLE):
            continue
        new_items = [*items]
        new_items[i] = first.with_changes(value=second.value)
        new_items[i + 1] = second.with_changes(value=first.value)
        text = summary(snippet(first.value, _PART), snippet(second.value, _PART))
        edits.append(Edit(node.with_changes(**{field: new_items}), text))
    return edits


_OPPOSITE_NAMES = {"min": "max", "max": "min", "any": "all", "all": "any"}
_OPPOSITE_METHODS = {
    "min": "max",
    "max": "min",
    "argmin": "argmax",
    "argmax": "argmin",
    "amin": "amax",
    "amax": "amin",
    "nanmin": "nanmax",
    "nanmax": "nanmin",
    "nanargmin": "nanargmax",
    "nanargmax": "nanargmin",
    "minimum": "maximum",
    "maximum": "minimum",
}


def _renamed(func: cst.BaseExpression, names: dict[str, str], methods: dict[str, str]) -> list[str]:
    if isinstance(func, cst.Name) and func.value in names:
        return [names[func.value]]
    if isinstance(func, cst.Attribute) and func.attr.value in methods:
        return [methods[func.attr.value]]
    return []


def _callee(func: cst.BaseExpression) -> str:
    """How a summary names a called function: its dotted name, else the method's name."""
    name = dotted_name(func)
    if name is not None and len(name) <= _SHORT:
        return name
    return func.attr.value if isinstance(func, cst.Attribute) else "the function"


def _with_name(func: cst.BaseExpression, name: str) -> cst.BaseExpression:
    if isinstance(func, cst.Name):
        return func.with_changes(value=name)
    assert isinstance(func, cst.Attribute)
    return func.with_changes(attr=func.attr.with_changes(value=name))


class MinMaxSwap(SiteOperator):
    """Call ``max`` instead of ``min``, ``all`` instead of ``any``, and the other way round.

    Calls of the builtins ``min``, ``max``, ``any``, ``all``, and of methods or module
    functions named ``min``/``max``, ``argmin``/``argmax``, ``amin``/``amax``,
    ``nanmin``/``nanmax``, ``minimum``/``maximum`` (NumPy, PyTorch), are sites with one
    variant: the opposite function.
    """

    name = "minmax-swap"
    description = "Call max instead of min, all instead of any, and the other way round."
    node_types: ClassVar = (cst.Call,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The opposite function of a min/max or any/all call."""
        assert isinstance(node, cst.Call)
        old = _callee(node.func)
        return [
            Edit(
                node.with_changes(func=_with_name(node.func, name)), f"call {name} instead of {old}"
            )
            for name in _renamed(node.func, _OPPOSITE_NAMES, _OPPOSITE_METHODS)
        ]


class BoundaryBuiltin(SiteOperator):
    """Round the other way: ``floor`` for ``ceil``, ``int`` for ``round``, and back.

    Calls of ``floor``/``ceil`` (by name or as ``math.floor``, ``np.ceil``...) get the other
    one; one-argument calls of ``round`` get ``int`` and one-argument calls of ``int`` get
    ``round`` (truncation against rounding to nearest).
    """

    name = "boundary-builtin"
    description = "Swap floor and ceil, or round and int, in a call."
    node_types: ClassVar = (cst.Call,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The other rounding function of a floor/ceil or round/int call."""
        assert isinstance(node, cst.Call)
        names = {"floor": "ceil", "ceil": "floor"}
        if len(node.args) == 1 and node.args[0].keyword is None and not node.args[0].star:
            names |= {"round": "int", "int": "round"}
        old = _callee(node.func)
        return [
            Edit(
                node.with_changes(func=_with_name(node.func, name)), f"call {name} instead of {old}"
            )
            for name in _renamed(node.func, names, {"floor": "ceil", "ceil": "floor"})
        ]
