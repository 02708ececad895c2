"""The state database: cycles, candidates, baselines and commits, in SQLite (WAL).

Every write is a transaction, so a process killed at any point leaves the last
committed state. A cycle still marked running when the store opens belonged to
a process that died; it is marked interrupted. The file is private to the state's
owner (`daemon.paths.private_mode`). A corrupt database is moved aside, never
deleted, and every row SQLite can still read is copied into a fresh one, with an
error in the log and a note in ``meta`` (`Store.recovered_from`): never a crash
loop, never a silent fresh start (`daemon.store.salvage`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from daemon.errors import StoreVersionError
from daemon.store.salvage import (
    RECOVERED_KEY,
    corruption,
    is_corrupt,
    make_private,
    move_aside,
    salvage,
)
from daemon.store.schema import SCHEMA, SCHEMA_VERSION, migrate, schema_version
from policies.status import CycleStatus
from sandbox import owner

log = logging.getLogger(__name__)


class Store:
    """One SQLite file, opened per process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        make_private(self.path)
        try:
            self.db = self._open()
        except sqlite3.DatabaseError as exc:
            if not is_corrupt(exc):
                raise
            self.db = self._recover(exc)
        self._interrupt_stale()

    def _recover(self, error: sqlite3.DatabaseError) -> sqlite3.Connection:
        """Keep the corrupt file aside, start a fresh one, copy into it what can be read."""
        aside = move_aside(self.path)
        make_private(self.path)
        db = self._open()
        note = salvage(aside, db, str(error))
        log.error(
            "state database %s is corrupt (%s): kept it as %s (not deleted) and copied "
            "into a fresh %s every row SQLite could read: %s%s",
            self.path,
            error,
            aside,
            self.path,
            note.get("rows", {}),
            f"; reading it failed: {note['failed']}" if "failed" in note else "",
        )
        return db

    def recovered_from(self) -> dict[str, Any] | None:
        """What the last recovery from a corrupt file did, or None if there was none.

        Keys: ``aside`` (the corrupt file, kept), ``at``, ``reason``, ``rows`` (copied,
        by table), ``refused`` (rows the schema refused, by table), ``failed`` (why
        nothing could be read, if so).
        """
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (RECOVERED_KEY,)).fetchone()
        return json.loads(row["value"]) if row else None

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            return self._prepare(db)
        except BaseException:
            db.close()
            raise

    def _prepare(self, db: sqlite3.Connection) -> sqlite3.Connection:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        row = schema_version(db)
        if row is not None and row > SCHEMA_VERSION:
            raise StoreVersionError(
                f"{self.path} has schema {row}, newer than this Neuromutant "
                f"({SCHEMA_VERSION}); upgrade Neuromutant or use another --state"
            )
        if row is not None and row < SCHEMA_VERSION:
            migrate(db, row)
        db.executescript(SCHEMA)
        if row is None:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise corruption(f"quick_check: {check}")
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _interrupt_stale(self) -> None:
        """Cycles marked running whose process is gone were cut short: say so."""
        running = self.db.execute(
            "SELECT id, owner FROM cycles WHERE status=?", (CycleStatus.RUNNING,)
        ).fetchall()
        dead = [row["id"] for row in running if not owner.alive(row["owner"])]
        if not dead:
            return
        with self.transaction() as db:
            db.executemany(
                "UPDATE cycles SET status=?, ended_at=?, "
                "reason='the process running it stopped before the cycle ended' WHERE id=?",
                [(CycleStatus.INTERRUPTED, time.time(), cycle_id) for cycle_id in dead],
            )

    # --- cycles -------------------------------------------------------------------------

    def start_cycle(self, target: str, *, forced: bool, head: str | None) -> tuple[int, int]:
        """Record a new running cycle; returns (row id, the target's cycle number)."""
        with self.transaction() as db:
            number = db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM cycles WHERE target=?", (target,)
            ).fetchone()[0]
            cursor = db.execute(
                "INSERT INTO cycles (target, number, started_at, forced, owner, status, head) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    target,
                    number,
                    time.time(),
                    int(forced),
                    owner.token(),
                    CycleStatus.RUNNING,
                    head,
                ),
            )
            return int(cursor.lastrowid), int(number)

    def end_cycle(self, cycle_id: int, status: CycleStatus, reason: str, **fields: Any) -> None:
        """Close a cycle with its status, reason and figures."""
        allowed = {"baseline_score", "best_score", "candidates", "sandbox_seconds", "commit_sha"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown cycle fields: {sorted(unknown)}")
        sets = "".join(f", {name}=?" for name in fields)
        with self.transaction() as db:
            db.execute(
                f"UPDATE cycles SET status=?, reason=?, ended_at=?{sets} WHERE id=?",
                (status, reason, time.time(), *fields.values(), cycle_id),
            )

    def add_candidates(self, cycle_id: int, rows: list[dict[str, Any]]) -> None:
        """Record evaluated candidates of a cycle."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO candidates (cycle_id, mutation, outcome, valid, score, passed, "
                "collected, wall_time, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        cycle_id,
                        json.dumps(r["mutation"]),
                        r["outcome"],
                        int(r["valid"]),
                        r["score"],
                        r["passed"],
                        r["collected"],
                        r["wall_time"],
                        r["reason"],
                    )
                    for r in rows
                ],
            )

    def cycles(self, target: str, limit: int = 20) -> list[dict[str, Any]]:
        """The target's latest cycles, newest first."""
        rows = self.db.execute(
            "SELECT * FROM cycles WHERE target=? ORDER BY number DESC LIMIT ?", (target, limit)
        ).fetchall()
        return [dict(r) for r in rows]

    def candidates(self, cycle_id: int) -> list[dict[str, Any]]:
        """The candidates of one cycle."""
        rows = self.db.execute(
            "SELECT * FROM candidates WHERE cycle_id=? ORDER BY id", (cycle_id,)
        ).fetchall()
        return [{**dict(r), "mutation": json.loads(r["mutation"])} for r in rows]

    # --- baselines ----------------------------------------------------------------------

    def baseline(self, target: str, tree: str, args: str) -> dict[str, Any] | None:
        """A cached baseline run of this exact tree and test arguments."""
        row = self.db.execute(
            "SELECT run FROM baselines WHERE target=? AND tree=? AND args=?", (target, tree, args)
        ).fetchone()
        return json.loads(row["run"]) if row else None

    def save_baseline(self, target: str, tree: str, args: str, run: dict[str, Any]) -> None:
        """Cache a baseline run by tree hash."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO baselines VALUES (?, ?, ?, ?, ?)",
                (target, tree, args, json.dumps(run), time.time()),
            )

    # --- commits ------------------------------------------------------------------------

    def add_commit(
        self, target: str, cycle_id: int | None, sha: str, kind: str, subject: str
    ) -> None:
        """Record a commit Neuromutant made (kind: 'accept' or 'revert')."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO commits (target, cycle_id, sha, kind, subject, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (target, cycle_id, sha, kind, subject, time.time()),
            )

    # --- learned policies ---------------------------------------------------------------

    def policy_state(self, target: str, name: str) -> dict[str, Any] | None:
        """A learned policy's persisted state for a target (name: 'trigger', 'operators')."""
        row = self.db.execute(
            "SELECT state FROM policy_state WHERE target=? AND name=?", (target, name)
        ).fetchone()
        return json.loads(row["state"]) if row else None

    def policy_states(self, name: str) -> dict[str, dict[str, Any]]:
        """Every target's state of one policy, by target: for priors pooled across targets."""
        rows = self.db.execute(
            "SELECT target, state FROM policy_state WHERE name=?", (name,)
        ).fetchall()
        return {r["target"]: json.loads(r["state"]) for r in rows}

    def save_policy_state(self, target: str, name: str, state: dict[str, Any]) -> None:
        """Replace a learned policy's state, atomically."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO policy_state VALUES (?, ?, ?, ?)",
                (target, name, json.dumps(state), time.time()),
            )

    def update_policy_state(
        self,
        target: str,
        name: str,
        change: Callable[[dict[str, Any] | None], dict[str, Any]],
    ) -> dict[str, Any]:
        """Read, change and write a policy's state in one transaction (no lost update).

        `change` gets the stored state (None if none) and returns the new one.
        """
        with self.transaction() as db:
            row = db.execute(
                "SELECT state FROM policy_state WHERE target=? AND name=?", (target, name)
            ).fetchone()
            state = change(json.loads(row["state"]) if row else None)
            db.execute(
                "INSERT OR REPLACE INTO policy_state VALUES (?, ?, ?, ?)",
                (target, name, json.dumps(state), time.time()),
            )
        return state

    # --- the trigger policy: ROI series and decisions -----------------------------------

    def add_roi(
        self,
        target: str,
        make: Callable[[float | None], dict[str, Any] | None],
        alpha: float,
        unit: str = "tests",
    ) -> dict[str, Any] | None:
        """Record a cycle's ROI point, made from the target's last EMA in one transaction.

        `make` gets the last EMA (None before the first point, or when that point's
        score was in another `unit`: the EMA restarts when a target's objective changes)
        and returns the point (`policies.roi.RoiPoint.to_dict()`), or None to record
        nothing.
        """
        with self.transaction() as db:
            row = db.execute(
                "SELECT ema, unit FROM roi WHERE target=? ORDER BY cycle DESC LIMIT 1", (target,)
            ).fetchone()
            point = make(row["ema"] if row and row["unit"] == unit else None)
            if point is None:
                return None
            db.execute(
                "INSERT OR REPLACE INTO roi "
                "(target, cycle, at, status, gain, cost, roi, ema, alpha, unit) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    target,
                    point["cycle"],
                    time.time(),
                    point["status"],
                    point["gain"],
                    point["cost"],
                    point["roi"],
                    point["ema"],
                    alpha,
                    unit,
                ),
            )
        return point

    def roi_series(self, target: str, limit: int = 20) -> list[dict[str, Any]]:
        """The target's latest ROI points, newest first."""
        rows = self.db.execute(
            "SELECT * FROM roi WHERE target=? ORDER BY cycle DESC LIMIT ?", (target, limit)
        ).fetchall()
        return [dict(r) for r in rows]

    def add_decision(self, target: str, row: dict[str, Any]) -> int:
        """Log a trigger decision; returns its id (for `decision_outcome`).

        `row` has the `decisions` columns but id and target; ``state`` and ``q`` are
        stored as JSON.
        """
        values = {**row, "state": json.dumps(row["state"]), "q": json.dumps(row.get("q"))}
        columns = ", ".join(values)
        with self.transaction() as db:
            cursor = db.execute(
                f"INSERT INTO decisions (target, {columns}) VALUES (?{', ?' * len(values)})",
                (target, *values.values()),
            )
            return int(cursor.lastrowid)

    def decision_outcome(
        self, decision_id: int, cycle: int, status: str, roi: float | None, reward: float | None
    ) -> None:
        """What the cycle a decision started came to."""
        with self.transaction() as db:
            db.execute(
                "UPDATE decisions SET cycle=?, status=?, roi=?, reward=? WHERE id=?",
                (cycle, status, roi, reward, decision_id),
            )

    def decisions(self, target: str, limit: int = 20) -> list[dict[str, Any]]:
        """The target's latest trigger decisions, newest first."""
        rows = self.db.execute(
            "SELECT * FROM decisions WHERE target=? ORDER BY id DESC LIMIT ?", (target, limit)
        ).fetchall()
        return [
            {**dict(r), "state": json.loads(r["state"]), "q": json.loads(r["q"] or "null")}
            for r in rows
        ]

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


DB_NAME = "neuromutant.db"


def open_store(state: Path) -> Store:
    """The store of the state directory `state` (the one way to open it)."""
    return Store(Path(state) / DB_NAME)
