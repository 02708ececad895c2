"""The operator catalogue, and enumerating or applying the mutations of one file's source."""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import os
import pkgutil
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator

import libcst as cst

from policies.codemods.analysis import analyse
from policies.codemods.base import Mutation, MutationError, Operator, SiteOperator

log = logging.getLogger(__name__)

_OPERATORS_PACKAGE = "policies.codemods.operators"
_COMPILE_LOCK = threading.Lock()
MAX_SOURCE_BYTES = 128 * 1024
"""The default largest rewritable file: enumerating one this big takes tens of seconds."""
MAX_MUTATIONS = 20_000
"""The default most mutations listed for one file."""
SOURCE_LIMIT_VARIABLE = "NEUROMUTANT_MAX_SOURCE_FILE"
_SIZE = re.compile(r"^(\d+)\s*([kmg]?)(?:i?b)?$", re.IGNORECASE)
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}


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


def source_limit() -> int:
    """The largest source file enumerated, in bytes (else minutes and gigabytes of the host).

    ``$NEUROMUTANT_MAX_SOURCE_FILE`` when set (bytes, or with a unit: ``256k``), else
    `MAX_SOURCE_BYTES`.

    Raises:
        MutationError: If the variable is set to something else than a positive size.
    """
    raw = os.environ.get(SOURCE_LIMIT_VARIABLE, "").strip()
    if not raw:
        return MAX_SOURCE_BYTES
    match = _SIZE.match(raw)
    if not match or int(match.group(1)) <= 0:
        raise MutationError(
            f"${SOURCE_LIMIT_VARIABLE}={raw!r}: expected a size in bytes, such as 262144 or 256k"
        )
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def enumerate_mutations(
    source: str,
    path: str,
    operators: Iterable[str] | None = None,
    *,
    max_bytes: int | None = None,
    max_mutations: int = MAX_MUTATIONS,
    tuning: bool = False,
) -> list[Mutation]:
    """All mutations of one file's source, over all (or the named) operators.

    The order is deterministic: operator name, then site, then variant. Mutations whose
    result does not compile are not listed, nor those that leave the source unchanged or give
    the same text as an earlier one, so no candidate costs a sandbox run for nothing. An
    operator that fails on this source (a bug) is logged and skipped.

    When the operators offer more than ``max_mutations`` edits, each gets a fair share of
    them, sampled evenly across the file (a warning says so): memory and time stay bounded.

    Args:
        source: The file's text.
        path: Its path relative to the target repository, recorded in each mutation and used
            in error messages.
        operators: The names of the operators to use; all of them when None.
        max_bytes: The largest source accepted, in bytes; `source_limit()` when None.
        max_mutations: The most mutations listed.
        tuning: Whether the tuning operators (`Operator.tuning`, such as ``constant-scale``)
            take part, for a target that optimises a score; otherwise they are left out,
            even when named, and a repair search pays for none of them.

    Returns:
        The mutations, each replayable with `apply_mutation`.

    Raises:
        MutationError: If the source is over ``max_bytes``, does not compile or parse, or an
            operator is unknown.
    """
    _check_size(source, path, source_limit() if max_bytes is None else max_bytes)
    if isinstance(operators, str):
        operators = [operators]
    chosen = sorted(catalogue()) if operators is None else sorted(set(operators))
    selected = [op for op in map(_operator, chosen) if tuning or not op.tuning]
    module = _parse(source, path)
    counts = [_count(operator, module, path) for operator in selected]
    quotas = _quotas(counts, max_mutations)
    if sum(counts) > max_mutations:
        log.warning(
            "%s: %d possible mutations, over the limit of %d: a sample of them is tried",
            path,
            sum(counts),
            max_mutations,
        )
    seen = _Texts(source)
    found: list[Mutation] = []
    flags = analyse(module).future_flags
    for operator, count, quota in zip(selected, counts, quotas, strict=True):
        stride = -(-count // quota) if quota else 0
        found += _enumerate_one(operator, module, path, stride, seen, flags)
    return found


def _check_size(source: str, path: str, limit: int) -> None:
    """Refuse a source over ``limit`` bytes before any work is done on it."""
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise MutationError(
            f"{path}: {_size(size)} is over the limit of {_size(limit)} for a rewritable file "
            f"(raise ${SOURCE_LIMIT_VARIABLE} to allow it)"
        )


def _enumerate_one(
    operator: Operator, module: cst.Module, path: str, stride: int, seen: _Texts, flags: int
) -> list[Mutation]:
    """The new mutations of one operator: every ``stride``-th of its candidates, checked."""
    if stride <= 0:
        return []
    kept: list[Mutation] = []
    mark = seen.mark()
    try:
        for index, (mutation, make) in enumerate(_checked_candidates(operator, module, path)):
            if index % stride:
                continue
            try:
                new, unit = make()
            except MutationError:
                continue
            if seen.add(new, functools.partial(_first, make)) and (
                _compile_problem(unit, path, flags) is None
            ):
                kept.append(mutation)
    except Exception:  # a bug of one operator must not cost the others
        log.warning("%s: operator %s failed; skipped", path, operator.name, exc_info=True)
        seen.rollback(mark)
        return []
    return kept


def _count(operator: Operator, module: cst.Module, path: str) -> int:
    """How many candidates the operator offers, without making any.

    1 if it fails: `_enumerate_one` then meets the failure again, and logs it.
    """
    try:
        if isinstance(operator, SiteOperator):
            return sum(len(site.edits) for site in operator.sites(module))
        return sum(1 for _ in operator.candidates(module, path))
    except Exception:
        return 1


def _quotas(counts: list[int], limit: int) -> list[int]:
    """Each count's share of ``limit``: all of a small one, an even split of the rest."""
    quotas = [0] * len(counts)
    left = limit
    ranked = sorted(range(len(counts)), key=counts.__getitem__)
    for rank, index in enumerate(ranked):
        quotas[index] = min(counts[index], left // (len(counts) - rank))
        left -= quotas[index]
    return quotas


class _Texts:
    """The new sources seen so far, by hash; what made each is kept to compare on a match.

    Keeping hashes rather than texts bounds memory: each text is the whole file.
    """

    def __init__(self, source: str) -> None:
        self._makes: dict[int, list[Callable[[], str]]] = {hash(source): [lambda: source]}
        self._added: list[int] = []

    def add(self, text: str, make: Callable[[], str]) -> bool:
        """Whether ``text`` is new; it is remembered (as ``make``) when it is."""
        key = hash(text)
        makes = self._makes.setdefault(key, [])
        if any(made() == text for made in makes):
            return False
        makes.append(make)
        self._added.append(key)
        return True

    def mark(self) -> int:
        """A point to `rollback` to."""
        return len(self._added)

    def rollback(self, mark: int) -> None:
        """Forget the texts added since ``mark``."""
        while len(self._added) > mark:
            self._makes[self._added.pop()].pop()


def _first(make: Callable[[], tuple[str, str]]) -> str:
    return make()[0]


def _size(size: int) -> str:
    """``600 bytes``, ``128 KiB``, ``5.0 MiB``: exact when it is a whole number of units."""
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size // scale} {unit}" if size % scale == 0 else f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


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
