"""Mutations, mutation operators, and the shared machinery that finds and replaces edit sites.

A *mutation* is one concrete single edit of one file, replayable from
``(path, operator, site, variant)``. An *operator* lists the sites it can edit in a LibCST
module, in source order, and the alternatives (variants) at each site. Most operators derive
from `SiteOperator`: they name the node types they look at and return the edits possible
at one node; the walk, the site numbering, the enclosing function's name and the replacement
of exactly one node are done here, with what `policies.codemods.analysis` knows of the
module and `policies.codemods.replace` (keeping every other byte of the file).
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import libcst as cst

from policies.codemods.analysis import Context, analyse, replace_in_chain
from policies.errors import MutationError

T = TypeVar("T")

# Subtrees no operator ever edits: type annotations, imports, scope declarations.
_SKIPPED = (cst.Annotation, cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal)
_STRINGS = (cst.SimpleString, cst.ConcatenatedString)


@dataclass(frozen=True)
class Mutation:
    """One concrete single edit, replayable from ``(path, operator, site, variant)``.

    Attributes:
        path: The file path relative to the target repository, e.g. ``"alpha/pricing.py"``.
        operator: The operator's name, e.g. ``"compare-swap"``.
        site: The index of the site among this operator's sites in this file, in source order.
        variant: Which alternative at that site; deterministic.
        line: The 1-based line of the mutated node in the original source.
        function: The qualified name of the enclosing function or method (``"Limiter.allow"``),
            or None outside any function.
        summary: A short human phrase for a commit subject, e.g.
            ``"use <= instead of < in clamp()"``.
    """

    path: str
    operator: str
    site: int
    variant: int
    line: int
    function: str | None
    summary: str

    def to_dict(self) -> dict[str, Any]:
        """The mutation as plain JSON-able data."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Mutation:
        """The mutation that `to_dict` gave ``data`` for; extra keys are ignored.

        Raises:
            MutationError: If a field is missing.
        """
        names = [field.name for field in dataclasses.fields(cls)]
        missing = [name for name in names if name not in data]
        if missing:
            raise MutationError(f"mutation data lacks {', '.join(missing)}")
        return cls(**{name: data[name] for name in names})


class Operator(abc.ABC):
    """A family of single edits: where they apply in a module, and how to make each.

    Subclasses set `name` (kebab-case, unique) and `description` (one sentence). Both methods
    must be deterministic: the same module always gives the same list, in the same order.
    A *tuning* operator (`tuning` True) makes edits that only pay off against a score, such as
    scaling a constant: `enumerate_mutations` lists them only when asked, so a repair search
    (which counts its candidates) never pays for them. A *coarse* operator (`coarse` True)
    adds, removes or moves code (a statement, a condition, a slice, a call around an
    expression) rather than changing a token or dropping an operand: most real fixes are
    small, so the learned order tries coarse edits of a line after its fine ones.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    tuning: ClassVar[bool] = False
    coarse: ClassVar[bool] = False

    @abc.abstractmethod
    def mutations(self, module: cst.Module, path: str) -> list[Mutation]:
        """Every ``(site, variant)`` pair this operator offers in ``module``, in order.

        Args:
            module: The parsed file.
            path: The file's path, copied into each `Mutation`.
        """

    @abc.abstractmethod
    def apply(self, module: cst.Module, site: int, variant: int) -> cst.Module:
        """The module with the edit ``(site, variant)`` made.

        Raises:
            MutationError: If there is no such site or variant.
        """

    def new_source(self, module: cst.Module, site: int, variant: int) -> str:
        """The module's code after the edit ``(site, variant)``: ``apply(...).code``.

        Subclasses may compute the same text faster.

        Raises:
            MutationError: If there is no such site or variant.
        """
        return self.apply(module, site, variant).code

    def candidates(
        self, module: cst.Module, path: str
    ) -> Iterator[tuple[Mutation, Callable[[], str]]]:
        """Each mutation with a function giving the new source; subclasses may share work.

        The text must be the ``code`` of what `apply` returns for the same mutation.

        Args:
            module: The parsed file.
            path: The file's path.
        """
        for mutation in self.mutations(module, path):
            yield mutation, functools.partial(_code_after, self, module, mutation)


def _code_after(operator: Operator, module: cst.Module, mutation: Mutation) -> str:
    return operator.apply(module, mutation.site, mutation.variant).code


@dataclass(frozen=True)
class Edit:
    """One alternative at a site: the node that replaces ``target`` and what it does.

    Attributes:
        replacement: The new node.
        summary: What the edit does, e.g. ``"use <= instead of <"``; the operator appends where.
        target: The node replaced: the site's node (None) or one of its ancestors.
    """

    replacement: cst.CSTNode
    summary: str
    target: cst.CSTNode | None = None


@dataclass(frozen=True)
class Site:
    """One place an operator can edit, and the alternatives there."""

    node: cst.CSTNode
    context: Context
    edits: tuple[Edit, ...]

    @property
    def line(self) -> int:
        """The 1-based line of the site's node in the original source."""
        return self.context.line()


class SiteOperator(Operator):
    """An operator made of one rule: the edits possible at one node of given types.

    Subclasses set `node_types` and implement `edits`. Sites are the nodes with at least one
    edit, numbered in source order (a parent before its children); docstrings, annotations,
    imports and ``global``/``nonlocal`` statements are never visited.
    """

    node_types: ClassVar[tuple[type[cst.CSTNode], ...]]

    @abc.abstractmethod
    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The alternatives at ``node``, in a fixed order; empty when it is not a site.

        Args:
            node: A node of one of `node_types`.
            ctx: Its ancestors, scopes and the module's shared facts.
        """

    def sites(self, module: cst.Module) -> list[Site]:
        """This operator's sites in ``module``, in source order (computed once per module)."""
        analysis = analyse(module)

        def find() -> list[Site]:
            sites = []
            for node, ancestors in analysis.nodes:
                if isinstance(node, self.node_types):
                    context = Context(analysis, ancestors, node)
                    edits = tuple(self.edits(node, context))
                    if edits:
                        sites.append(Site(node, context, edits))
            return sites

        return analysis.memo(("sites", self.name), find)

    def mutations(self, module: cst.Module, path: str) -> list[Mutation]:
        """Every ``(site, variant)`` pair in ``module``, site by site (see `Operator`)."""
        return [mutation for mutation, _ in self.candidates(module, path)]

    def apply(self, module: cst.Module, site: int, variant: int) -> cst.Module:
        """The module with edit ``variant`` made at site ``site`` (see `Operator`)."""
        return self._make(*self._find(module, site, variant))

    def new_source(self, module: cst.Module, site: int, variant: int) -> str:
        """The module's code after the edit, generating only the replaced node's code."""
        return self._source(*self._find(module, site, variant))

    def _find(self, module: cst.Module, site: int, variant: int) -> tuple[Site, Edit]:
        sites = self.sites(module)
        if not 0 <= site < len(sites):
            raise MutationError(f"{self.name}: no site {site} (there are {len(sites)})")
        found = sites[site]
        if not 0 <= variant < len(found.edits):
            raise MutationError(
                f"{self.name}: site {site} has no variant {variant} (there are {len(found.edits)})"
            )
        return found, found.edits[variant]

    def candidates(
        self, module: cst.Module, path: str
    ) -> Iterator[tuple[Mutation, Callable[[], str]]]:
        """Each mutation with its new source, from one walk of the module (see `Operator`)."""
        for mutation, found, edit in self._edits(module, path):
            yield mutation, functools.partial(self._source, found, edit)

    def checked_candidates(
        self, module: cst.Module, path: str
    ) -> Iterator[tuple[Mutation, Callable[[], tuple[str, str]]]]:
        """Like `candidates`, each text with the part of it to compile (see `splice_unit`)."""
        for mutation, found, edit in self._edits(module, path):
            yield mutation, functools.partial(self._source_and_unit, found, edit)

    def _edits(self, module: cst.Module, path: str) -> Iterator[tuple[Mutation, Site, Edit]]:
        for index, found in enumerate(self.sites(module)):
            for variant, edit in enumerate(found.edits):
                mutation = Mutation(
                    path=path,
                    operator=self.name,
                    site=index,
                    variant=variant,
                    line=found.line,
                    function=found.context.function,
                    summary=f"{edit.summary} {found.context.where}",
                )
                yield mutation, found, edit

    @staticmethod
    def _make(found: Site, edit: Edit) -> cst.Module:
        chain = (*found.context.ancestors, found.node)
        target = found.node if edit.target is None else edit.target
        return replace_in_chain(chain, target, edit.replacement)

    @staticmethod
    def _source(found: Site, edit: Edit) -> str:
        return SiteOperator._source_and_unit(found, edit)[0]

    @staticmethod
    def _source_and_unit(found: Site, edit: Edit) -> tuple[str, str]:
        chain = (*found.context.ancestors, found.node)
        target = found.node if edit.target is None else edit.target
        return found.context.analysis.splice_unit(chain, target, edit.replacement)
