"""The operator catalogue, and enumerating or applying the mutations of one file's source."""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import pkgutil
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator

import libcst as cst

from policies.codemods.analysis import analyse
from policies.codemods.base import Mutation, MutationError, Operator, SiteOperator

log = logging.getLogger(__name__)

_OPERATORS_PACKAGE = "policies.codemods.operators"
_COMPILE_LOCK = threading.Lock()


@functools.cache
def _operators() -> tuple[Operator, ...]:
    package = importlib.import_module(_OPERATORS_PACKAGE)
    found: dict[str, Operator] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{_OPERATORS_PACKAGE}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                not issubclass(cls, Operator)
                or inspect.isabstract(cls)
                or cls.__module__ != module.__name__
            ):
                continue
            if cls.name in found:
                raise RuntimeError(
                    f"two mutation operators are named {cls.name!r}: "
                    f"{type(found[cls.name]).__qualname__} and {cls.__qualname__}"
                )
            found[cls.name] = cls()
    return tuple(found[name] for name in sorted(found))


def catalogue() -> dict[str, Operator]:
    """All operators by name, sorted by name.

    They are found by importing every module of the `policies.codemods.operators` package and
    keeping the concrete `Operator` subclasses defined there (as LibCST's tool lists its
    codemods).
    """
    return {operator.name: operator for operator in _operators()}


def _parse(source: str, path: str) -> cst.Module:
    """The module of a source that compiles; a MutationError naming ``path`` otherwise."""
    problem = _parse_cached(source)
    if isinstance(problem, str):
        raise MutationError(f"{path}: {problem}")
    return problem


@functools.lru_cache(maxsize=16)
def _parse_cached(source: str) -> cst.Module | str:
    """The module, or why there is none; cached, since a cycle applies many mutations to a file.

    Modules are immutable, so sharing one (and its `Analysis`) between calls is safe.
    """
    problem = _compile_problem(source, "<source>")
    if problem is not None:
        return problem
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        return f"LibCST cannot parse it: {exc.message} (line {exc.raw_line})"


def _compile_problem(source: str, path: str, flags: int = 0) -> str | None:
    """Why ``source`` does not compile, or None when it does (warnings are ignored)."""
    with _COMPILE_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(source, path, "exec", flags=flags, dont_inherit=True)
        except SyntaxError as exc:
            return f"syntax error at line {exc.lineno}: {exc.msg}"
        except (ValueError, OverflowError, RecursionError, MemoryError) as exc:
            return f"does not compile: {exc}"
    return None


def clear_caches() -> None:
    """Forget the parsed modules and their analyses (tests use it to check determinism)."""
    _parse_cached.cache_clear()
    analyse.cache_clear()


def _operator(name: str) -> Operator:
    operators = catalogue()
    if name not in operators:
        raise MutationError(f"unknown mutation operator {name!r}")
    return operators[name]


def enumerate_mutations(
    source: str, path: str, operators: Iterable[str] | None = None
) -> list[Mutation]:
    """All mutations of one file's source, over all (or the named) operators.

    The order is deterministic: operator name, then site, then variant. Mutations whose
    result does not compile are not listed, nor those that leave the source unchanged or give
    the same text as an earlier one, so no candidate costs a sandbox run for nothing. An
    operator that fails on this source (a bug) is logged and skipped.

    Args:
        source: The file's text.
        path: Its path relative to the target repository, recorded in each mutation and used
            in error messages.
        operators: The names of the operators to use; all of them when None.

    Returns:
        The mutations, each replayable with `apply_mutation`.

    Raises:
        MutationError: If the source does not compile or parse, or an operator is unknown.
    """
    if isinstance(operators, str):
        operators = [operators]
    chosen = sorted(catalogue()) if operators is None else sorted(set(operators))
    selected = [_operator(name) for name in chosen]
    module = _parse(source, path)
    flags = analyse(module).future_flags
    seen = {source}
    found: list[Mutation] = []
    for operator in selected:
        try:
            candidates = list(_checked_candidates(operator, module, path))
        except Exception:  # a bug of one operator must not cost the others
            log.warning("%s: operator %s failed; skipped", path, operator.name, exc_info=True)
            continue
        for mutation, make in candidates:
            try:
                new, unit = make()
            except MutationError:
                continue
            if new in seen:
                continue
            seen.add(new)
            if _compile_problem(unit, path, flags) is None:
                found.append(mutation)
    return found


def _checked_candidates(
    operator: Operator, module: cst.Module, path: str
) -> Iterator[tuple[Mutation, Callable[[], tuple[str, str]]]]:
    """Each mutation with its new text and the part of that text to compile."""
    if isinstance(operator, SiteOperator):
        yield from operator.checked_candidates(module, path)
        return
    for mutation, make in operator.candidates(module, path):
        yield mutation, functools.partial(_twice, make)


def _twice(make: Callable[[], str]) -> tuple[str, str]:
    text = make()
    return text, text


def apply_mutation(source: str, mutation: Mutation) -> str:
    """The file's new source after ``mutation``; the same input always gives the same text.

    Args:
        source: The file's text, as it was when the mutation was enumerated.
        mutation: The mutation.

    Raises:
        MutationError: If the operator is unknown, the site or variant does not exist, or the
            result does not compile.
    """
    operator = _operator(mutation.operator)
    module = _parse(source, mutation.path)
    try:
        new = operator.new_source(module, mutation.site, mutation.variant)
    except MutationError as exc:
        raise MutationError(f"{mutation.path}: {exc}") from exc
    problem = _compile_problem(new, mutation.path)
    if problem is not None:
        raise MutationError(
            f"{mutation.path}: {mutation.operator} site {mutation.site} variant "
            f"{mutation.variant} gives code that does not compile: {problem}"
        )
    return new
