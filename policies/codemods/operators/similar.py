"""Similar code: replace a call or a subscript by a similar one used in the same function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst
from libcst.metadata import ExpressionContext

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import with_outer_parens
from policies.codemods.scope import usage

_SHORT = 30  # the longest snippet in a summary
_WHOLE = 10_000  # a snippet length that never truncates


@dataclass(frozen=True)
class _Donor:
    """An expression of the function that could stand elsewhere: its node, parts and line."""

    node: cst.BaseExpression
    head: str  # the callee, or the subscripted object
    tail: str  # the arguments, or the subscript
    line: int

    @property
    def text(self) -> str:
        """The whole expression's code."""
        return f"{self.head}{self.tail}"


def _parts(node: cst.CSTNode) -> tuple[str, str] | None:
    """``(callee, arguments)`` of a call, ``(object, subscript)`` of a one-element subscript."""
    if isinstance(node, cst.Call):
        whole = snippet(node.with_changes(lpar=(), rpar=()), _WHOLE)
        head = snippet(node.func, _WHOLE)
        return head, whole[len(head) :]
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        whole = snippet(node.with_changes(lpar=(), rpar=()), _WHOLE)
        head = snippet(node.value, _WHOLE)
        return head, whole[len(head) :]
    return None


def _donors(ctx: Context, kind: type[cst.CSTNode]) -> list[_Donor]:
    """The calls (or subscripts) read in the node's function, in source order."""
    function = ctx.function_node
    assert function is not None

    def collect() -> dict[cst.CSTNode, list[_Donor]]:
        """Every function's donors, from one walk of the module (not one per function)."""
        found: dict[cst.CSTNode, list[_Donor]] = {}
        for node, ancestors in ctx.analysis.nodes:
            if not isinstance(node, kind):
                continue
            functions = [a for a in ancestors if isinstance(a, cst.FunctionDef)]
            parts = _parts(node) if functions else None
            if parts is None:
                continue
            donor = _Donor(node, *parts, ctx.analysis.line(node))  # type: ignore[arg-type]
            for enclosing in functions:
                found.setdefault(enclosing, []).append(donor)
        return found

    return ctx.analysis.memo(("donors", kind), collect).get(function, [])


def _similar(node: cst.CSTNode, ctx: Context, kind: type[cst.CSTNode], limit: int) -> list[Edit]:
    """Up to ``limit`` similar donors for ``node``: same head first, then same tail.

    A donor with another head (callee, object) must hold the same kind of value.
    """
    parts = _parts(node)
    if parts is None or ctx.function_node is None:
        return []
    head, tail = parts
    text, here, names = head + tail, ctx.line(), usage(ctx)
    value = names.kind(node)  # type: ignore[arg-type]
    ranked: list[tuple[int, int, int, _Donor]] = []
    for donor in _donors(ctx, kind):
        if donor.text in text or text in donor.text:  # itself, or one inside the other
            continue
        same_kind = names.kind(donor.node) == value
        rank = 0 if donor.head == head else 1 if donor.tail == tail and same_kind else None
        if rank is not None:
            ranked.append((rank, abs(donor.line - here), donor.line, donor))
    edits: list[Edit] = []
    seen: set[str] = set()
    for *_, donor in sorted(ranked, key=lambda item: item[:3]):
        if donor.text in seen:
            continue
        seen.add(donor.text)
        new = with_outer_parens(donor.node.with_changes(lpar=(), rpar=()), node)  # type: ignore[arg-type]
        summary = f"use {snippet(donor.node, _SHORT)} instead of {snippet(node, _SHORT)}"
        edits.append(Edit(new, summary))
        if len(edits) == limit:
            break
    return edits


class ReplaceCall(SiteOperator):
    """Use another call of the same function: the same callee with other arguments, or another.

    SimFix's and ssFix's similar-code replacement at a call: the donors are the calls of the
    same function's code. A call in a function is a site; its variants are the other calls
    there to the same callee (``ord(ch)`` for ``ord("a")``), then those with the same
    arguments and another callee giving the same kind of value (``f(x)`` for ``g(x)``, not
    ``sorted(x)`` for ``len(x)``), nearest first, each text once; then
    the same arguments passed to the nearest other function called there with as many and
    giving the same kind of value (``len(x)`` for ``round(x)``); at most three. A call inside
    the other, or the same text, is not offered.
    """

    name = "replace-call"
    description = "Replace a call by a similar call of the same function, such as f(b) for f(a)."
    node_types: ClassVar = (cst.Call,)
    limit: ClassVar[int] = 3

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Up to three similar calls of the function, then one other function called."""
        assert isinstance(node, cst.Call)
        if ctx.function_node is None:
            return []
        edits = _similar(node, ctx, cst.Call, self.limit)
        if len(edits) < self.limit and isinstance(node.func, cst.Name):
            made = {snippet(edit.replacement, _WHOLE) for edit in edits}
            for edit in self._other_callee(node, ctx):
                if snippet(edit.replacement, _WHOLE) not in made:
                    return [*edits, edit]
        return edits

    @staticmethod
    def _other_callee(node: cst.Call, ctx: Context) -> list[Edit]:
        """The same arguments passed to the function called nearest with as many."""
        assert isinstance(node.func, cst.Name)
        here, count, names = ctx.line(), len(node.args), usage(ctx)
        kind = names.kind(node)
        callees = sorted(
            (abs(donor.line - here), donor.line, donor.node.func.value)  # type: ignore[attr-defined]
            for donor in _donors(ctx, cst.Call)
            if isinstance(donor.node.func, cst.Name)  # type: ignore[attr-defined]
            and donor.node.func.value != node.func.value  # type: ignore[attr-defined]
            and len(donor.node.args) == count  # type: ignore[attr-defined]
        )
        for *_, name in callees:
            new = node.with_changes(func=node.func.with_changes(value=name))
            if names.kind(new) == kind:  # ``len(x)`` for ``round(x)``, not for ``sorted(x)``
                return [Edit(new, f"call {name} instead of {node.func.value}")]
        return []


class ReplaceSubscript(SiteOperator):
    """Use another subscript of the same function: ``x[j]`` or ``y[i]`` for ``x[i]``.

    SimFix's similar-code replacement at a subscript. A one-element subscript (an index or a
    slice) in a function, read or assigned, is a site; its variants are the other subscripts
    of the function on the same object (``x[j]``), then those with the same subscript on
    another object holding the same kind of value (``y[i]``), nearest first, each text once,
    at most three.
    """

    name = "replace-subscript"
    description = "Replace a subscript x[i] by a similar one of the function, such as x[j]."
    node_types: ClassVar = (cst.Subscript,)
    limit: ClassVar[int] = 3

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Up to three similar subscripts of the function."""
        if ctx.expression_context() is ExpressionContext.DEL:
            return []
        return _similar(node, ctx, cst.Subscript, self.limit)
