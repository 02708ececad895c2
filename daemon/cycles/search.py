"""Which candidates a code cycle tries, and which of the tried ones count as better.

`CandidateScheduler` hands out batches from a search order until the cycle's
limits say stop: the candidate cap, the patience past the first improvement,
the deadline (read from an injected clock), the alternatives past the first
candidate that passes every test, or a stop request; it keeps the order it
handed them out in. It runs nothing and touches nothing: the cycle evaluates
what it hands out and reports each outcome back, so it is tested with plain
lists and a hand-made clock. `improves`, `refusal` and `novelty` are the
selection rules the cycle and the benches share.
"""

from __future__ import annotations

import io
import math
import threading
import time
import tokenize
from collections.abc import Callable, Collection
from typing import Generic, Protocol, TypeVar

from policies.antipatterns import anti_patterns
from sandbox.evaluate import TestRun

T = TypeVar("T")


class Order(Protocol[T]):
    """A search order (`policies.ordering.Search`): next items, and their outcomes."""

    def next(self, count: int) -> list[T]:
        """Up to `count` items not handed out yet; [] when there are none left."""
        ...

    def observe(self, item: T, improved: bool) -> None:
        """The outcome of an evaluated item."""
        ...


class CandidateScheduler(Generic[T]):
    """Batches of candidates, within a cap, a patience and a deadline; thread-safe."""

    def __init__(
        self,
        order: Order[T],
        *,
        batch: int,
        limit: int,
        patience: int,
        deadline: float,
        alternatives: int = 0,
        clock: Callable[[], float] = time.monotonic,
        estimate: float = 0.0,
    ) -> None:
        """`deadline` is a reading of `clock` after which no batch starts.

        `alternatives` are the candidates handed out past the batch of the first repair.
        `estimate` is what one candidate costs on `clock` until some are recorded (0:
        unknown): a batch is cut to what the time left buys, so that the last one
        overshoots the deadline by a candidate or two rather than by a batch.
        """
        if batch < 1 or limit < 0 or patience < 0 or alternatives < 0:
            raise ValueError(
                f"batch {batch}, limit {limit}, patience {patience}, "
                f"alternatives {alternatives}: out of range"
            )
        self.order, self.batch, self.limit = order, batch, limit
        self.patience, self.deadline, self.clock = patience, deadline, clock
        self.alternatives, self.estimate = alternatives, estimate
        self.started = clock()
        self.handed_out = self.recorded = 0
        self.taken: list[T] = []
        """Every item handed out, in order: the search's order, for tie-breaks."""
        self.ends: list[int] = []
        """Where each batch handed out ends in `taken`."""
        self.repairs: set[T] = set()
        """The items recorded as perfect."""
        self.finished = False
        """Set by a stop request: nothing more is handed out."""
        self._lock = threading.Lock()

    def take(self) -> list[T]:
        """The next batch; [] once the cap, the patience or the deadline is reached."""
        with self._lock:
            if self.finished or self.clock() > self.deadline:
                return []
            size = min(self.batch, self.limit - self.handed_out, self._affordable())
            taken = self.order.next(size) if size > 0 else []
            self.handed_out += len(taken)
            self.taken += taken
            if taken:
                self.ends.append(len(self.taken))
            return taken

    def record(
        self, item: T, *, improved: bool, perfect: bool = False, settled: bool | None = None
    ) -> None:
        """An evaluated candidate: the first committable improvement starts the patience.

        `settled` says it could be committed (default: `improved`). An improvement
        refused to do no harm still teaches the order, but the search goes on as if
        none was found: a program with several defects has others to find. A
        `perfect` one (a repair) leaves `alternatives` more to hand out past its batch:
        weak tests pass several edits, and selection prefers the least new code.
        """
        with self._lock:
            self.recorded += 1
            self.order.observe(item, improved)
            if improved if settled is None else settled:
                self.limit = min(self.limit, self.handed_out + self.patience)
            if perfect:
                self.repairs.add(item)
                self.limit = min(self.limit, self._batch_end(item) + self.alternatives)

    def settled(self) -> list[T]:
        """The items handed out up to the first repair's batch and its alternatives; all without.

        Batches in flight when a repair arrives are evaluated too, but which ones were in
        flight depends on timing: selection looks no further than the repair's batch and
        the alternatives after it, so a rerun, or a run with other parallelism, picks the
        same winner.
        """
        with self._lock:
            for end in self.ends:
                if self.repairs.intersection(self.taken[:end]):
                    return self.taken[: end + self.alternatives]
            return list(self.taken)

    def _affordable(self) -> int:
        """Candidates the time left buys, those in flight paid for, at the cost seen so far."""
        now = self.clock()
        cost = (now - self.started) / self.recorded if self.recorded else self.estimate
        if cost <= 0 or math.isinf(self.deadline):
            return self.batch
        left = self.deadline - now - (self.handed_out - self.recorded) * cost
        return max(1, int(left / cost))

    def _batch_end(self, item: T) -> int:
        """Where the batch that handed out `item` ends in `taken`."""
        position = self.taken.index(item)
        return next(end for end in self.ends if end > position)

    def stop(self) -> None:
        """Hand out nothing more (the daemon is stopping)."""
        with self._lock:
            self.finished = True


class Prioritised(Generic[T]):
    """An order that hands out `first`, then the rest of `order`: each item once."""

    def __init__(self, first: list[T], order: Order[T]) -> None:
        self.first, self.order = list(first), order
        self.given: set[T] = set()

    def next(self, count: int) -> list[T]:
        """Up to `count` items not handed out yet, `first` before the others."""
        taken: list[T] = []
        while self.first and len(taken) < count:
            self._give(self.first.pop(0), taken)
        while len(taken) < count and (more := self.order.next(count - len(taken))):
            for item in more:
                self._give(item, taken)
        return taken

    def observe(self, item: T, improved: bool) -> None:
        """Passed on to the order."""
        self.order.observe(item, improved)

    def _give(self, item: T, taken: list[T]) -> None:
        if item not in self.given:
            self.given.add(item)
            taken.append(item)


class Judged(Protocol):
    """What `improves` needs of a baseline: its score and the tests that passed."""

    score: float
    passing: list[str]


def improves(run: TestRun, baseline: Judged) -> bool:
    """A valid run that scores above the baseline and keeps every test that passed."""
    return run.valid and run.score > baseline.score and set(baseline.passing) <= run.passing()


def perfect(run: TestRun) -> bool:
    """A valid run that passes every runnable test: a repair, which ends the search."""
    return run.valid and run.score >= 1.0


def refusal(run: TestRun, old: str, new: str, failing_here: Collection[str] = ()) -> str | None:
    """Why an improving change may not be committed, or None: do no harm.

    A change that passes every test is a repair, whatever its shape. One that only
    passes more tests is a partial improvement, refused when it shows an anti-pattern
    of search-based repair (`policies.antipatterns`): it may have gained its test by
    removing behaviour; or when tests that still fail ran the edited line at baseline
    (`failing_here`): their failures say that code is still wrong, so a gain there is
    likelier a coincidence of the inputs than a repair. A partial improvement away
    from the remaining failures (another defect's code) is kept.
    """
    if run.score >= 1.0:
        return None
    harm = anti_patterns(old, new)
    if failing_here:
        first = sorted(failing_here)[0]
        harm.append(f"edits a line that {len(failing_here)} still failing test(s) run ({first})")
    if not harm:
        return None
    return f"a partial improvement (score {run.score:.3f}) that {' and '.join(harm)}"


def novelty(old: str, new: str) -> int:
    """How much code a change brings: the token trigrams of `new` that `old` lacks.

    Ties between candidates that pass the same tests go to the least novel: real
    fixes are mostly small and made of the program's own code (the "plastic
    surgery" of the repair literature), so a change that only recombines what is
    there is likelier the intended one than one that brings a new constant or
    expression. Removing code earns nothing: a deletion that passes the tests is
    not preferred for it.
    """
    before = _trigrams(old)
    return len(_trigrams(new) - before)


def _trigrams(source: str) -> set[tuple[str, str, str]]:
    words = tokens(source)
    return set(zip(words, words[1:], words[2:], strict=False))


_LAYOUT = frozenset(
    {
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.COMMENT,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
)


def tokens(source: str) -> list[str]:
    """The source's tokens without layout and comments; its words if it does not tokenize."""
    try:
        return [
            t.string
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type not in _LAYOUT
        ]
    except (tokenize.TokenError, SyntaxError):
        return source.split()
