"""What an operator knows of a module, computed once and shared by every operator.

Where each node is, its enclosing function, its context of use, the code around it,
and how to replace exactly one node while keeping every other byte of the file.
"""

from __future__ import annotations
import __future__

import functools
import inspect
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import (
    CodeRange,
    ExpressionContext,
    ExpressionContextProvider,
    MetadataWrapper,
    PositionProvider,
)

from policies.codemods.replace import replace_child, replace_in_chain

T = TypeVar("T")
_STRINGS = (cst.SimpleString, cst.ConcatenatedString)
_SKIPPED = (cst.Annotation, cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal)


class _SpanRecorder(CodegenState):
    """Generates a module's code and records the span of every node in it, in characters."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.offset = 0
        self.starts: list[int] = []
        self.spans: dict[cst.CSTNode, tuple[int, int]] = {}

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        self.offset += sum(map(len, self.indent_tokens))

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.starts.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        self.spans[node] = (self.starts.pop(), self.offset)


class Analysis:
    """Facts about one parsed module, computed once and shared by every operator."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self._wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self._positions: Mapping[cst.CSTNode, CodeRange] | None = None
        self._contexts: Mapping[cst.CSTNode, ExpressionContext] | None = None
        self._spans: tuple[str, dict[cst.CSTNode, tuple[int, int]]] | None = None
        self._memo: dict[Any, Any] = {}

    def splice(
        self, chain: Sequence[cst.CSTNode], target: cst.CSTNode, replacement: cst.CSTNode
    ) -> str:
        """The module's code with ``target`` (a node of ``chain``) replaced by ``replacement``.

        The same text as ``replace_in_chain(chain, target, replacement).code``, but only the
        replacement is generated: the rest is cut from the original code.
        """
        return self.splice_unit(chain, target, replacement)[0]

    def splice_unit(
        self, chain: Sequence[cst.CSTNode], target: cst.CSTNode, replacement: cst.CSTNode
    ) -> tuple[str, str]:
        """`splice`'s text, and the smallest part of it that compiles exactly when it does.

        That part is the outermost function around the edit (under ``if 1:`` when it is a
        method, to keep its indentation valid), else the top-level statement, else the whole
        text. Compiling it with `future_flags` tells whether the whole text compiles: no
        operator edits what crosses those bounds (imports, ``global``, ``nonlocal``).
        """
        if not self.module.has_trailing_newline or target is self.module:
            code = replace_in_chain(chain, target, replacement).code
            return code, code
        source, spans = self._spans_of_code()
        # Some nodes are written differently depending on their parent (an ``elif``, the
        # default comma of an argument): regenerate from the nearest ancestor that is not.
        index = next(i for i, node in enumerate(chain) if node is target)
        new = replacement
        while index > 0 and (
            _depends_on_parent(chain[index], chain[index - 1])
            or _depends_on_parent(new, chain[index - 1])
        ):
            new = replace_child(chain[index - 1], chain[index], new)
            index -= 1
        if index == 0:
            code = cst.ensure_type(new, cst.Module).code
            return code, code
        replacement, target = new, chain[index]
        start, end = spans[target]
        indents = []
        for node in chain[:index]:
            if isinstance(node, cst.IndentedBlock):
                indents.append(self.module.default_indent if node.indent is None else node.indent)
        state = CodegenState(
            default_indent=self.module.default_indent,
            default_newline=self.module.default_newline,
            indent_tokens=indents,
        )
        replacement._codegen(state)
        written = "".join(state.tokens)
        code = source[:start] + written + source[end:]
        unit_index = next(
            (i for i in range(1, index + 1) if isinstance(chain[i], cst.FunctionDef)), 1
        )
        unit_start, unit_end = spans[chain[unit_index]]
        unit = code[unit_start : unit_end + len(written) - (end - start)]
        if any(isinstance(node, cst.IndentedBlock) for node in chain[:unit_index]):
            unit = "if 1:\n" + unit
        return code, unit

    def _spans_of_code(self) -> tuple[str, dict[cst.CSTNode, tuple[int, int]]]:
        if self._spans is None:
            recorder = _SpanRecorder(self.module)
            self.module._codegen(recorder)
            self._spans = ("".join(recorder.tokens), recorder.spans)
        return self._spans

    @functools.cached_property
    def future_flags(self) -> int:
        """The compiler flags of the module's ``from __future__ import`` statements."""
        flags = 0
        for statement in self.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if (
                    isinstance(small, cst.ImportFrom)
                    and isinstance(small.module, cst.Name)
                    and small.module.value == "__future__"
                    and not isinstance(small.names, cst.ImportStar)
                ):
                    for alias in small.names:
                        feature = getattr(
                            __future__, cst.ensure_type(alias.name, cst.Name).value, None
                        )
                        flags |= getattr(feature, "compiler_flag", 0)
        return flags

    def line(self, node: cst.CSTNode) -> int:
        """The 1-based line where ``node`` starts."""
        if self._positions is None:
            self._positions = self._wrapper.resolve(PositionProvider)
        return self._positions[node].start.line

    def expression_context(self, node: cst.CSTNode) -> ExpressionContext | None:
        """LOAD, STORE or DEL for a name, attribute or subscript; None for other nodes."""
        if self._contexts is None:
            self._contexts = self._wrapper.resolve(ExpressionContextProvider)
        return self._contexts.get(node)

    @functools.cached_property
    def nodes(self) -> list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]]:
        """Every node an operator may edit, in source order, with its ancestors (module first)."""
        flattener = _Flattener()
        self.module.visit(flattener)
        return flattener.nodes

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()``, once per ``key`` for this module (keys may hold nodes: identity)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


@functools.cache
def _takes_context(node_type: type[cst.CSTNode]) -> bool:
    """Whether nodes of this type are written with arguments from their parent."""
    return len(inspect.signature(node_type._codegen_impl).parameters) > 2


def _depends_on_parent(node: cst.CSTNode, parent: cst.CSTNode) -> bool:
    if isinstance(node, cst.If):  # only an ``elif`` is written differently
        return isinstance(parent, cst.If)
    return _takes_context(type(node))


@functools.lru_cache(maxsize=8)
def analyse(module: cst.Module) -> Analysis:
    """The shared `Analysis` of ``module`` (cached by identity for the last few modules)."""
    return Analysis(module)


def is_docstring(
    statement: cst.CSTNode, parent: cst.CSTNode | None, owner: cst.CSTNode | None
) -> bool:
    """Whether ``statement`` is the docstring of a module, class or function.

    Args:
        statement: A statement line (or a small statement in a one-line suite).
        parent: The node holding it (the module, an indented block or a one-line suite).
        owner: The node holding ``parent``.
    """
    if isinstance(statement, cst.SimpleStatementLine):
        if len(statement.body) != 1:
            return False
        small: cst.CSTNode = statement.body[0]
    elif isinstance(statement, cst.Expr):
        small = statement
    else:
        return False
    if not (isinstance(small, cst.Expr) and isinstance(small.value, _STRINGS)):
        return False
    if isinstance(parent, cst.Module):
        return bool(parent.body) and parent.body[0] is statement
    if isinstance(parent, cst.IndentedBlock | cst.SimpleStatementSuite):
        return isinstance(owner, cst.FunctionDef | cst.ClassDef) and parent.body[0] is statement
    return False


def snippet(node: cst.CSTNode, limit: int = 40) -> str:
    """Short one-line code for ``node`` (comments and surrounding blank lines left out)."""
    if isinstance(node, cst.SimpleStatementLine):
        text = "; ".join(_code(small).rstrip("; ") for small in node.body)
    elif isinstance(node, cst.BaseCompoundStatement):
        text = _code(node.with_changes(leading_lines=())).lstrip().split("\n", 1)[0].rstrip(":")
    else:
        text = _code(node)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


_EMPTY = cst.Module(body=[])


def _code(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


class Context:
    """Where a candidate node sits: its ancestors, enclosing scopes, and shared facts.

    Attributes:
        node: The node.
        ancestors: Its ancestors, the module first and its parent last.
        analysis: The module's shared `Analysis`.
    """

    def __init__(
        self, analysis: Analysis, ancestors: tuple[cst.CSTNode, ...], node: cst.CSTNode
    ) -> None:
        self.analysis = analysis
        self.ancestors = ancestors
        self.node = node

    @property
    def module(self) -> cst.Module:
        """The whole module."""
        return self.analysis.module

    @property
    def parent(self) -> cst.CSTNode | None:
        """The node's parent (None for the module)."""
        return self.ancestors[-1] if self.ancestors else None

    def ancestor(self, level: int) -> cst.CSTNode | None:
        """The ancestor ``level`` steps up: 1 is the parent, 2 the grandparent."""
        return self.ancestors[-level] if len(self.ancestors) >= level else None

    @functools.cached_property
    def scopes(self) -> tuple[cst.FunctionDef | cst.ClassDef, ...]:
        """The functions and classes whose body holds the node, outermost first.

        A function's decorators, parameters and defaults run in the enclosing scope, so a node
        there is not in the function.
        """
        chain = (*self.ancestors, self.node)
        return tuple(
            scope
            for scope, below in itertools.pairwise(chain)
            if isinstance(scope, cst.FunctionDef | cst.ClassDef) and below is scope.body
        )

    @functools.cached_property
    def header(self) -> cst.FunctionDef | cst.ClassDef | None:
        """The function or class whose header (decorators, parameters, bases) holds the node.

        None when the node is in no header, or in the body of a scope inside that header.
        """
        chain = (*self.ancestors, self.node)
        found = None
        for scope, below in itertools.pairwise(chain):
            if isinstance(scope, cst.FunctionDef | cst.ClassDef):
                found = None if below is scope.body else scope
        return found

    @property
    def function_node(self) -> cst.FunctionDef | None:
        """The function whose own code the node is (not a class body within it), or None."""
        if self.scopes and isinstance(self.scopes[-1], cst.FunctionDef):
            return self.scopes[-1]
        return None

    @property
    def function(self) -> str | None:
        """The qualified name of the enclosing function (``"Limiter.allow"``), or None."""
        if isinstance(self.header, cst.FunctionDef):
            return ".".join(scope.name.value for scope in (*self.scopes, self.header))
        if self.function_node is None:
            return None
        return ".".join(scope.name.value for scope in self.scopes)

    @property
    def where(self) -> str:
        """Where the node is, for summaries: ``"in clamp()"``, ``"in class Limiter"``.

        A function's decorators and defaults are ``"in the signature of clamp()"``, a class's
        decorators and bases ``"in the header of class Limiter"``.
        """
        names = [scope.name.value for scope in self.scopes]
        if isinstance(self.header, cst.FunctionDef):
            return f"in the signature of {'.'.join([*names, self.header.name.value])}()"
        if isinstance(self.header, cst.ClassDef):
            return f"in the header of class {'.'.join([*names, self.header.name.value])}"
        if self.function is not None:
            return f"in {self.function}()"
        if self.scopes:
            return f"in class {'.'.join(names)}"
        return "at module level"

    def line(self, node: cst.CSTNode | None = None) -> int:
        """The 1-based line of ``node`` (default: the context's node)."""
        return self.analysis.line(self.node if node is None else node)

    def expression_context(self, node: cst.CSTNode | None = None) -> ExpressionContext | None:
        """LOAD, STORE or DEL for ``node`` (default: the context's node), or None."""
        return self.analysis.expression_context(self.node if node is None else node)


class _Flattener(cst.CSTVisitor):
    """Lists a module's nodes in source order with their ancestors.

    It skips what no operator edits: docstrings, annotations, imports, ``global`` and
    ``nonlocal`` statements.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[cst.CSTNode] = []
        self.nodes: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        stack = self.stack
        parent = stack[-1] if stack else None
        owner = stack[-2] if len(stack) > 1 else None
        if isinstance(node, _SKIPPED) or is_docstring(node, parent, owner):
            stack.append(node)
            return False
        self.nodes.append((node, tuple(stack)))
        stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()
