"""Helpers for operator tests: one call per before/after pair, like LibCST's assertCodemod."""

from __future__ import annotations

import textwrap

import libcst as cst

from policies.codemods import Mutation, apply_mutation, catalogue, enumerate_mutations


def listed(operator_name: str, source: str, path: str = "m.py") -> list[Mutation]:
    """Every (site, variant) the operator offers in ``source``, before any filtering."""
    return catalogue()[operator_name].mutations(cst.parse_module(source), path)


def mutants(operator_name: str, before: str) -> list[str]:
    """The distinct, compiling results of one operator on ``before``, in order."""
    before = textwrap.dedent(before)
    return [apply_mutation(before, m) for m in enumerate_mutations(before, "m.py", [operator_name])]


def assert_mutates(
    operator_name: str, before: str, after: str, site: int = 0, variant: int = 0
) -> Mutation:
    """The operator's edit ``(site, variant)`` turns ``before`` into exactly ``after``.

    Both texts are dedented. The edit is checked three ways: the operator's own ``apply``,
    the public `apply_mutation` (which also compiles the result), and `enumerate_mutations`
    listing it. Returns the mutation, for checks of its line, function and summary.
    """
    before, after = textwrap.dedent(before), textwrap.dedent(after)
    operator = catalogue()[operator_name]
    module = cst.parse_module(before)
    assert operator.apply(module, site, variant).code == after
    mutation = next(
        m for m in operator.mutations(module, "m.py") if (m.site, m.variant) == (site, variant)
    )
    assert apply_mutation(before, mutation) == after
    assert after in mutants(operator_name, before)
    return mutation


def assert_no_site(operator_name: str, source: str) -> None:
    """The operator offers no edit at all in ``source``."""
    assert listed(operator_name, textwrap.dedent(source)) == []
