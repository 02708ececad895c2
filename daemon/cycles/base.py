"""The skeleton every kind of cycle shares: its context, its report, commit-verify-revert.

A kind of cycle (`daemon.cycles.code`, `daemon.cycles.weights`) implements
`run` (baseline, search, selection) and `verify` (the committed tree judged
again, independently); it commits through `commit_verified`, which records the
commit, calls `verify`, and reverts the commit (history kept) when it fails.
The lock, recovery and record around a cycle are `daemon.cycles.runner`'s.
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daemon.cycles.events import Phase, Progress
from daemon.cycles.report import Counters, CycleReport
from daemon.errors import LedgerError
from daemon.ledger import Ledger, format_message
from daemon.registry import TargetSpec
from daemon.store import Store
from policies.status import CycleStatus
from sandbox.backend import Backend

if TYPE_CHECKING:  # a weights cycle never loads libcst
    from policies.ordering import Ordering


@dataclass(frozen=True)
class CycleContext:
    """What a cycle is given: the target, where things are, and its number and share."""

    spec: TargetSpec
    state: Path
    backend: Backend
    store: Store
    ledger: Ledger
    cycle_id: int
    number: int
    progress: Progress
    stop: threading.Event
    share: float = 1.0
    """The share of the target's budget this cycle may spend (the trigger's decision)."""
    ordering: Ordering | None = None
    """A code cycle's order of candidates (with the learned operator preferences)."""


class Cycle(abc.ABC):
    """One cycle of one target; `run` once."""

    def __init__(self, context: CycleContext) -> None:
        self.context = context
        self.spec, self.config = context.spec, context.spec.config
        self.state, self.backend = context.state, context.backend
        self.store, self.ledger = context.store, context.ledger
        self.number, self.progress, self.stop = context.number, context.progress, context.stop
        self.share = context.share
        self.limits = self.config.sandbox.limits()
        self.started = time.monotonic()
        self.counters = Counters()

    @abc.abstractmethod
    def run(self) -> CycleReport:
        """The whole cycle; the repository changes only through `commit_verified`."""

    @abc.abstractmethod
    def verify(self) -> str | None:
        """Why the commit just made fails verification in a fresh sandbox, or None."""

    def verified(self, sha: str) -> None:  # noqa: B027 (a hook: most kinds keep nothing)
        """Called once commit `sha` passed verification (a kind may keep what produced it)."""

    # --- shared steps ---------------------------------------------------------------------

    def report(self, status: CycleStatus, reason: str) -> CycleReport:
        """The cycle's report so far, ending with `status` for `reason`."""
        seconds = time.monotonic() - self.started
        return CycleReport.of(self.spec.name, self.number, status, reason, self.counters, seconds)

    def waiting_for_edits(self, paths: list[str]) -> CycleReport | None:
        """A waiting report when any of `paths` has uncommitted changes; else None."""
        dirty = self.ledger.dirty(paths)
        if not dirty:
            return None
        return self.report(
            CycleStatus.WAITING,
            f"uncommitted changes in {', '.join(dirty)}: commit or remove them; "
            "this cycle touched nothing",
        )

    def snapshot(self, rev: str = "HEAD") -> Path:
        """The tree of `rev` exported for the sandbox (once per tree hash)."""
        tree = self.ledger.tree(rev)
        return self.ledger.snapshot(self.state / "snapshots" / self.spec.name / tree, rev)

    def commit_verified(
        self,
        changes: Mapping[str, str | bytes],
        subject: str,
        body: str,
        trailers: Mapping[str, Any],
    ) -> CycleReport:
        """Commit `changes`, verify the commit, and revert it if verification fails."""
        message = format_message(
            subject, body, {"Target": self.spec.name, "Cycle": self.number, **trailers}
        )
        self.progress(Phase("commit"))
        try:
            sha = self.ledger.commit_files(changes, message)
        except LedgerError as exc:
            return self.report(CycleStatus.WAITING, f"not committed: {exc}")
        self.counters.commit = sha
        self.store.add_commit(self.spec.name, self.context.cycle_id, sha, "accept", subject)
        self.progress(Phase("verify"))
        problem = self.verify()
        if problem is not None:
            return self.revert_unverified(sha, subject, problem)
        self.verified(sha)
        return self.report(CycleStatus.ACCEPTED, f"{subject} [{sha[:12]}]")

    def revert_unverified(self, sha: str, subject: str, problem: str) -> CycleReport:
        """Revert commit `sha` (history kept) because its verification found `problem`."""
        revert_subject = f'Revert "{subject}"'
        revert = self.ledger.revert(
            sha,
            format_message(
                revert_subject,
                f"This reverts commit {sha}.\n\nVerification failed: {problem}",
                {
                    "Target": self.spec.name,
                    "Cycle": self.number,
                    "Reverts": sha,
                    "Reason": problem.splitlines()[0][:200],
                },
            ),
        )
        self.counters.revert = revert
        self.store.add_commit(
            self.spec.name, self.context.cycle_id, revert, "revert", revert_subject
        )
        return self.report(CycleStatus.REVERTED, f"verification of {sha[:12]} failed: {problem}")
